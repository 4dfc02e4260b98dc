"""How the enforcement stage's decision is told to the caller over HTTP: the ``X-Clearance-*`` headers and the
403 a ``block`` or ``require_approval`` decision answers (rendered by ``clearance.proxy.errors``)."""

from __future__ import annotations

from collections.abc import Mapping

from clearance.exceptions import PermissionDenied
from clearance.models import Decision


def denial(decision: Decision) -> PermissionDenied:
    code = "approval_required" if decision.action == "require_approval" else "blocked_by_policy"
    return PermissionDenied(
        decision.message or "this request is not allowed by the data classification policy",
        code=code,
        details={"rule": decision.rule, "reasons": list(decision.reasons), "findings": dict(decision.counts)},
    )


def decision_headers(decision: Decision, masked: Mapping[str, int]) -> dict[str, str]:
    """What the client is told: the decision, its rule and reasons, and counts per type (never values)."""
    headers = {
        "X-Clearance-Decision": decision.action,
        "X-Clearance-Rule": decision.rule,
        "X-Clearance-Reasons": ",".join(decision.reasons),
        "X-Clearance-Level": decision.level,
    }
    if decision.counts:
        headers["X-Clearance-Findings"] = ",".join(f"{t}={n}" for t, n in sorted(decision.counts.items()))
    if masked:
        headers["X-Clearance-Masked"] = ",".join(f"{t}={n}" for t, n in sorted(masked.items()))
    return headers
