"""The values of an approval: the request held for approval, its state, and every transition it went through.

States, and the transitions between them (anything else is refused)::

    pending ──approve (the last needed)──▶ approved ──use (once)──▶ used
       │ ├──deny (any one approver)──▶ denied           └──grant lifetime over──▶ expired
       │ ├──cancel (the requester)──▶ cancelled
       │ ├──pending lifetime over──▶ expired
       │ └──break_glass (the requester, in a break-glass group, with a reason)──▶ approved
       └──escalate (once, when due; stays pending)──▶ pending

Two more steps change no state: ``escalate`` (the rule's escalation groups join the approvers) and, on a
break-glass approval, ``acknowledge`` (someone other than the requester reviews it: ``review`` goes from
``pending`` to ``acknowledged``). Each is recorded as a transition like any other.

An approval never holds a raw value: ``preview`` is the request as the policy's masking would send it to someone
without clearance, ``counts`` are findings per type, and ``released_as`` says, per type, whether approving sends
its values to the model unmasked or still masked. Times are seconds since the epoch (``time.time()``), read
from a clock the caller passes in, so tests control expiry without sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from clearance.models import ReasonFrom

ApprovalState = Literal["pending", "approved", "denied", "expired", "cancelled", "used"]
FINAL_STATES: Final = frozenset({"denied", "expired", "cancelled", "used"})
"""States an approval never leaves."""

ReviewState = Literal["pending", "acknowledged"]
"""Where the review of a break-glass approval stands."""

MAX_REASON_CHARS: Final = 500
"""The longest stated reason kept (requester's or approver's); a longer one is refused, not cut."""


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, as the gateway authenticated them (never a chat identity)."""

    subject: str
    kind: str = "user"
    """``user``, ``service`` or ``anonymous`` (``clearance.models.IdentityKind``)."""
    email: str | None = None
    groups: tuple[str, ...] = ()
    key_id: str | None = None
    """The API key it authenticated with, if any."""


@dataclass(frozen=True, slots=True)
class Transition:
    """One step of an approval's life: the state it entered, who caused it, when and why."""

    state: ApprovalState
    actor: str
    """The subject of whoever acted; ``system`` for an expiry."""
    at: float
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """A request held for approval, and where it stands. A value: transitions return a new one."""

    id: str
    """Unguessable and URL-safe: ``apr_`` and 32 characters of ``secrets.token_urlsafe``."""
    requester: Requester
    model: str
    endpoint: str
    """The endpoint's name (``clearance.endpoints.Endpoint.name``)."""
    rule: str
    reasons: tuple[str, ...]
    level: str
    counts: Mapping[str, int]
    """Findings per entity type in the request."""
    preview: str
    """The request as it would reach someone without clearance (masked): what approvers read."""
    body_sha256: str
    """SHA-256 (hex) of the canonical request body: the grant is good for this body only."""
    policy_version: str
    """The digest of the policy version that asked for approval: a later version never widens the grant."""
    approvers: tuple[str, ...]
    """The groups whose members may decide."""
    approvals_needed: int
    grant_seconds: float
    """How long the grant lasts once approved (the rule's ``grant_for``)."""
    created_at: float
    expires_at: float
    """While pending: when the request expires undecided. Once approved: when the grant expires."""
    requester_reason: str = ""
    released_as: Mapping[str, str] = field(default_factory=dict)
    """Per type found: how its values reach the model once the request is approved, ``unmasked`` (the values
    themselves) or the masking operator that still applies (``redact``, ``partial``, ``hash``, ``placeholder``).
    What an approver actually lets through, said before they decide."""
    state: ApprovalState = "pending"
    approved_by: tuple[str, ...] = ()
    """Subjects of the distinct approvers so far."""
    approver_names: tuple[str, ...] = ()
    """Every name those approvers went by (subject, email, case-folded where an email), so the same person under
    another login (an OIDC login, an API key owned by their email) is not taken for another approver. Not shown."""
    history: tuple[Transition, ...] = field(default=())
    """Every transition, oldest first (the first is ``pending``, at creation)."""
    reason_from: ReasonFrom = "none"
    """Who must give a reason, as the rule said when the approval was made (a later policy never changes it)."""
    escalate_to: tuple[str, ...] = ()
    """The groups told, and who join ``approvers``, when nobody has decided by ``escalate_at``."""
    escalate_at: float | None = None
    escalated_at: float | None = None
    """When the escalation was recorded (None: not escalated)."""
    break_glass: bool = False
    """The requester granted themselves (a break-glass group's member, with a reason)."""
    review: ReviewState | None = None
    """A break-glass approval's review: ``pending`` until someone acknowledges it (None for any other)."""
    reviewed_by: str | None = None
    reviewed_at: float | None = None
    review_reason: str = ""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    @property
    def approver_reason_required(self) -> bool:
        return self.reason_from in ("approver", "both")
