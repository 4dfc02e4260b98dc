"""The policy in force when none is configured (``default_policy``).

Restricted data (cards, SSNs, bank numbers, IBANs, secrets, and any type the policy does not name) is masked in
requests and in answers, and callers see masked answers; nothing else is touched. Every caller the gateway lets in
is allowed (with no authentication configured, that is only loopback callers, as ``anonymous``), and so is every
model the gateway routes to.
"""

from __future__ import annotations

from clearance.policy.compiled import Policy, compile_policy
from clearance.policy.load import parse_policy

DEFAULT_POLICY = {
    "version": 1,
    "description": "built-in default: restricted data masked both ways, nothing else touched",
    "clearances": [{"anonymous": True, "level": "confidential"}],
    "defaults": {
        "unknown_identity": "allow",
        "unknown_identity_level": "confidential",
        "unknown_model": "allow",
        "unknown_model_level": "restricted",
    },
}


def default_policy() -> Policy:
    return compile_policy(parse_policy(DEFAULT_POLICY, source="default policy"))
