"""What a notifier is told, and the contract every notifier keeps.

An ``ApprovalEvent`` is a frozen value: what happened (``kind``), the approval as it stands after it, and the links
where approvers decide (its console page) and where programs read it (the admin API). It holds nothing raw: an
``ApprovalRequest`` carries the masked preview, counts per type, reason codes and who asked, never the request's
values, and ``event_document`` is the one list of fields that leaves the gateway (the webhook sends it as is; Slack
and email render the same facts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from clearance.approvals.config import EventKind
from clearance.approvals.model import ApprovalRequest
from clearance.models import UNMASKED

APPROVALS_PATH = "/admin/v1/approvals"
CONSOLE_PATH = "/console/approvals"

TITLES: dict[EventKind, str] = {
    "requested": "Approval requested",
    "approved": "Approval granted",
    "denied": "Approval denied",
    "expired": "Approval expired",
    "cancelled": "Approval cancelled",
    "escalated": "Approval escalated: nobody has decided yet",
    "break_glass": "Break-glass: the requester granted themselves",
}


def approval_link(public_url: str | None, approval_id: str) -> str:
    """Where a person opens the approval: its page in the web console, ``{public_url}/console/approvals/{id}`` (the
    bare path without a URL); approvers decide there."""
    base = (public_url or "").rstrip("/")
    return f"{base}{CONSOLE_PATH}/{approval_id}"


def approval_api_link(public_url: str | None, approval_id: str) -> str:
    """The approval in the admin API: ``{public_url}/admin/v1/approvals/{id}`` (the bare path without a URL)."""
    base = (public_url or "").rstrip("/")
    return f"{base}{APPROVALS_PATH}/{approval_id}"


@dataclass(frozen=True, slots=True)
class ApprovalEvent:
    """Something that happened to an approval, to be told to people."""

    kind: EventKind
    approval: ApprovalRequest
    link: str
    """The approval's page in the console (``approval_link``)."""
    at: float
    """When it happened (seconds since the epoch)."""
    api_link: str = ""
    """The approval in the admin API (``approval_api_link``), for programs."""

    @property
    def key(self) -> str:
        """Stable for one event across retries, so a receiver can drop a delivery it already has."""
        return f"{self.approval.id}.{self.kind}.{len(self.approval.history)}"

    @property
    def title(self) -> str:
        return TITLES[self.kind]


class Notifier(Protocol):
    """Tells people about an approval. ``send`` delivers one event or raises; it never retries (the dispatcher
    does) and never puts anything into an error message but what it sent to and what came back (a status)."""

    @property
    def name(self) -> str: ...

    async def send(self, event: ApprovalEvent) -> None: ...


class DeliveryFailed(Exception):
    """A notifier could not deliver. The message is safe to log: a notifier name and a status, never payload text
    or a secret (a Slack URL is one)."""


def event_document(event: ApprovalEvent) -> dict[str, Any]:
    """The event as the JSON document a webhook receives: only what the approval holds, nothing raw."""
    a = event.approval
    last = a.history[-1] if a.history else None
    return {
        "event": event.kind,
        "event_id": event.key,
        "at": event.at,
        "link": event.link,
        "api_link": event.api_link,
        "approval": {
            "id": a.id,
            "state": a.state,
            "requester": {"subject": a.requester.subject, "kind": a.requester.kind, "email": a.requester.email},
            "requester_reason": a.requester_reason,
            "model": a.model,
            "endpoint": a.endpoint,
            "rule": a.rule,
            "reasons": list(a.reasons),
            "level": a.level,
            "counts": dict(sorted(a.counts.items())),
            "preview": a.preview,
            "released_as": dict(sorted(a.released_as.items())),
            "approvers": list(a.approvers),
            "approvals_needed": a.approvals_needed,
            "approved_by": list(a.approved_by),
            "created_at": a.created_at,
            "expires_at": a.expires_at,
            "escalate_to": list(a.escalate_to),
            "escalated_at": a.escalated_at,
            "break_glass": a.break_glass,
            "review": a.review,
            "last_transition": (
                None
                if last is None
                else {"state": last.state, "actor": last.actor, "at": last.at, "reason": last.reason}
            ),
        },
    }


def released_text(approval: ApprovalRequest) -> str:
    """``CREDIT_CARD (2), US_SSN (1) unmasked; EMAIL_ADDRESS (1) as partial``: what approving sends to the model."""
    by_release: dict[str, list[str]] = {}
    for kind, release in sorted(approval.released_as.items()):
        by_release.setdefault(release, []).append(f"{kind} ({approval.counts.get(kind, 0)})")
    if not by_release:
        return "not recorded"
    parts = [", ".join(by_release.pop(UNMASKED)) + " unmasked"] if UNMASKED in by_release else []
    parts += [f"{', '.join(kinds)} as {release}" for release, kinds in sorted(by_release.items())]
    return "; ".join(parts)


def counts_text(counts: Mapping[str, int]) -> str:
    """``CREDIT_CARD: 2, EMAIL_ADDRESS: 1``: the types found, most first."""
    items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return ", ".join(f"{kind}: {n}" for kind, n in items) or "none"
