"""The stable reason codes a decision carries.

Logs, audit records, response headers (``X-Clearance-Reasons``) and 403 error bodies all use these codes, and
dashboards and clients match on them: never rename one, only add. Every decision carries at least one.
"""

from __future__ import annotations

from typing import Final

NO_SENSITIVE_DATA: Final = "no_sensitive_data"
"""Detection found nothing in the request."""

WITHIN_CLEARANCE: Final = "within_clearance"
"""Detection found data, all of it within the caller's clearance and the model's level."""

CLEARANCE_EXCEEDED: Final = "clearance_exceeded"
"""The request holds data (found, or declared by its label) above the caller's clearance."""

MODEL_LEVEL_EXCEEDED: Final = "model_level_exceeded"
"""The request holds data above the highest level the model (or its upstream) may receive."""

RESTRICTED_TYPE: Final = "restricted_type"
"""The request holds a type of the highest level (by default: cards, SSNs, bank numbers, IBANs, secrets)."""

LABEL_MISMATCH: Final = "label_mismatch"
"""Detection found data above the label the caller declared; by default the detected level wins."""

UNKNOWN_LABEL: Final = "unknown_label"
"""The caller declared a label that is not a level of the policy; the request is refused."""

CANNOT_MASK: Final = "cannot_mask"
"""The level that was exceeded comes from the caller's label, not from findings, so there is nothing to mask: the
request is refused rather than sent."""

UNKNOWN_IDENTITY: Final = "unknown_identity"
"""The caller matches no clearance of the policy."""

UNKNOWN_MODEL: Final = "unknown_model"
"""Neither the model nor its upstream has a level in the policy."""

DEFAULT_DENY: Final = "default_deny"
"""No rule matched and the policy's fail-safe defaults refuse the request (rule ``default``)."""

MATCHED_RULE: Final = "matched_rule"
"""A rule of the policy decided; its id is the decision's rule."""

APPROVAL_REQUIRED: Final = "approval_required"
"""The matching rule holds the request until approvers allow it."""

ALL: Final[tuple[str, ...]] = (
    NO_SENSITIVE_DATA,
    WITHIN_CLEARANCE,
    CLEARANCE_EXCEEDED,
    MODEL_LEVEL_EXCEEDED,
    RESTRICTED_TYPE,
    LABEL_MISMATCH,
    UNKNOWN_LABEL,
    CANNOT_MASK,
    UNKNOWN_IDENTITY,
    UNKNOWN_MODEL,
    DEFAULT_DENY,
    MATCHED_RULE,
    APPROVAL_REQUIRED,
)
"""Every code, in the order of the docs' table."""
