"""The data policy: who may send which class of data to which model, decided with reasons.

``load_policy(path)`` reads and compiles a policy file (``docs/policy.md``); ``evaluate(policy, facts)`` decides one
request, purely; ``default_policy()`` is what applies when no file is configured; ``PolicyHolder`` serves the current
policy to the pipeline and reloads it on change or SIGHUP. Reason codes live in ``clearance.policy.reasons``.
"""

from __future__ import annotations

from pathlib import Path

from clearance.levels import NO_DECLARED_LEVELS, DeclaredLevels
from clearance.policy.compiled import Policy, compile_policy
from clearance.policy.defaults import default_policy
from clearance.policy.evaluate import DEFAULT_RULE, evaluate
from clearance.policy.holder import PolicyHolder
from clearance.policy.load import parse_policy, read_policy_file


def load_policy(path: str | Path | None, declared: DeclaredLevels = NO_DECLARED_LEVELS) -> Policy:
    """Read, validate and compile a policy file (the default policy for None), with the levels the detection
    configuration declares (``DetectionConfig.declared_levels()``); raises ``ConfigError`` listing every problem."""
    if path is None:
        return default_policy(declared)
    file, text = read_policy_file(path)
    return compile_policy(file, text, declared)


__all__ = [
    "DEFAULT_RULE",
    "Policy",
    "PolicyHolder",
    "compile_policy",
    "default_policy",
    "evaluate",
    "load_policy",
    "parse_policy",
]
