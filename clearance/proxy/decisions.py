"""How the enforcement stage's decision is told to the caller over HTTP: the ``X-Clearance-*`` headers and the
403 a ``block`` or ``require_approval`` decision answers (rendered by ``clearance.proxy.errors``); for a request
held for approval, the 403 says which approval to ask for and how (``approval_required``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from clearance.approvals.model import ApprovalRequest
from clearance.exceptions import PermissionDenied
from clearance.models import Decision


def denial(decision: Decision) -> PermissionDenied:
    code = "approval_required" if decision.action == "require_approval" else "blocked_by_policy"
    return PermissionDenied(
        decision.message or "this request is not allowed by the data classification policy",
        code=code,
        details={"rule": decision.rule, "reasons": list(decision.reasons), "findings": dict(decision.counts)},
    )


def approval_required(decision: Decision, approval: ApprovalRequest, base_url: str) -> PermissionDenied:
    """The 403 for a request held for approval: which approval, until when, where approvers find it (the admin
    API's URL under ``base_url``), the command they run, and how to send the request again once it is granted."""
    expires = datetime.fromtimestamp(approval.expires_at, UTC).isoformat().replace("+00:00", "Z")
    command = f"clearance approvals approve {approval.id}"
    message = (
        f"{decision.message or 'this request needs approval'}. Approval {approval.id} is pending until {expires}: "
        f"an approver runs `{command}`. Once it is approved, send the same request again with the header "
        f"X-Clearance-Approval: {approval.id}"
    )
    return PermissionDenied(
        message,
        code="approval_required",
        details={
            "rule": decision.rule,
            "reasons": list(decision.reasons),
            "findings": dict(decision.counts),
            "approval": {
                "id": approval.id,
                "state": approval.state,
                "expires_at": expires,
                "expires_at_epoch": int(approval.expires_at),
                "url": f"{base_url}/admin/v1/approvals/{approval.id}",
                "approve_command": command,
                "approvers": list(approval.approvers),
                "approvals_needed": approval.approvals_needed,
            },
        },
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
