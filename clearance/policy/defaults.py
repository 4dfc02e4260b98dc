"""The policy in force when none is configured (``default_policy``).

Its levels are the default scale with each built-in type at its catalogue level (``clearance.entities``).
Restricted data (cards, SSNs, bank numbers, IBANs, secrets, and any type no level is given for) is masked in
requests and in answers, and callers see masked answers; nothing else is touched. Every caller the gateway lets in
is allowed (with no authentication configured, that is only loopback callers, as ``anonymous``), and so is every
model the gateway routes to.
"""

from __future__ import annotations

from clearance.levels import NO_DECLARED_LEVELS, DeclaredLevels
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


def default_policy(declared: DeclaredLevels = NO_DECLARED_LEVELS) -> Policy:
    """The default policy; its levels are the catalogue's (``clearance.entities``), with ``declared`` ones added
    for other types (``compile_policy``)."""
    return compile_policy(parse_policy(DEFAULT_POLICY, source="default policy"), declared=declared)
