"""The values of an approval: the request held for approval, its state, and every transition it went through.

States, and the transitions between them (anything else is refused)::

    pending ──approve (the last needed)──▶ approved ──use (once)──▶ used
       │ ├──deny (any one approver)──▶ denied           └──grant lifetime over──▶ expired
       │ ├──cancel (the requester)──▶ cancelled
       │ └──pending lifetime over──▶ expired

An approval never holds a raw value: ``preview`` is the request as the policy's masking would send it to someone
without clearance, ``counts`` are findings per type, and ``released_as`` says, per type, whether approving sends
its values to the model unmasked or still masked. Times are seconds since the epoch (``time.time()``), read
from a clock the caller passes in, so tests control expiry without sleeping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

ApprovalState = Literal["pending", "approved", "denied", "expired", "cancelled", "used"]
FINAL_STATES: Final = frozenset({"denied", "expired", "cancelled", "used"})
"""States an approval never leaves."""

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
    history: tuple[Transition, ...] = field(default=())
    """Every transition, oldest first (the first is ``pending``, at creation)."""

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES
