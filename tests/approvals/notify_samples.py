"""Approvals and events the notifier tests share: the request held carried a card number and a token, which only
ever appear here in their raw form, so a test can assert they are never sent."""

from __future__ import annotations

from clearance.approvals.config import EventKind
from clearance.approvals.model import ApprovalRequest, Requester, Transition
from clearance.approvals.notify import ApprovalEvent, approval_api_link, approval_link

RAW_CARD = "4111 1111 1111 1111"
RAW_TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
RAW_REQUEST = f"charge {RAW_CARD} and deploy with {RAW_TOKEN}"
"""What the requester sent: never part of an approval, never in a notification."""
PREVIEW = "charge [CREDIT_CARD] and deploy with [GITHUB_TOKEN]"
PUBLIC_URL = "https://gateway.example.com"


def sample_approval(**changes: object) -> ApprovalRequest:
    fields: dict[str, object] = {
        "id": "Zq3-appr0val_id",
        "requester": Requester("sam", email="sam@example.com", groups=("eng",)),
        "model": "llama-3-70b",
        "endpoint": "chat.completions",
        "rule": "secrets-need-approval",
        "reasons": ("matched_rule", "restricted_type"),
        "level": "restricted",
        "counts": {"GITHUB_TOKEN": 1, "CREDIT_CARD": 2},
        "preview": PREVIEW,
        "released_as": {"GITHUB_TOKEN": "unmasked", "CREDIT_CARD": "partial"},
        "body_sha256": "0" * 64,
        "policy_version": "f" * 64,
        "approvers": ("security",),
        "approvals_needed": 1,
        "grant_seconds": 3600.0,
        "created_at": 1_000.0,
        "expires_at": 4_600.0,
        "requester_reason": "release hotfix INC-42",
        "history": (Transition("pending", "sam", 1_000.0),),
    }
    fields.update(changes)
    return ApprovalRequest(**fields)  # type: ignore[arg-type]


def sample_event(kind: EventKind = "requested", **changes: object) -> ApprovalEvent:
    approval = sample_approval(**changes)
    link, api_link = approval_link(PUBLIC_URL, approval.id), approval_api_link(PUBLIC_URL, approval.id)
    return ApprovalEvent(kind, approval, link, 1_000.0, api_link)
