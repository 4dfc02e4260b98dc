"""The transitions of an approval, as pure functions: each takes an ``ApprovalRequest``, who acts, why and when, and
returns a new value with the ``Transition`` appended, or raises the precise error of the tree in
``clearance.exceptions``. Nothing here reads a clock or a database: the store applies these functions atomically
(``clearance.approvals.store.ApprovalStore.apply``), and tests pass ``now`` to control expiry.

- ``new_approval``: a pending request with an unguessable id and its first transition (``pending``, by the requester).
- ``approve``: by a member of one of the approver groups, never the requester, each approver once. Below the number
  needed, the approval stays ``pending`` and the step is recorded as a ``pending`` transition by that approver (who
  joins ``approved_by``); the last one needed moves it to ``approved`` and starts the grant (``expires_at`` becomes
  ``now + grant_seconds``).
- ``deny``: one denial by an approver denies. ``cancel``: the requester withdraws a pending request.
- One person, several logins: for the refusals (deciding one's own request, approving twice, reviewing one's own
  break-glass) two actors are the same person when they share a name: the subject, the email, or a subject that is
  an email (an API key's subject is its owner, which operators write as the person's email; a key has no email
  claim). A false match costs another approver; a missed one would let someone decide for themselves. The rights
  (cancelling, spending a grant) still need the requester's own subject or email.
- ``expire``: a pending request past ``expires_at``, or a grant past its lifetime, becomes ``expired`` (actor
  ``system``). Every other transition refuses a lapsed approval with ``approval_expired`` even before the store has
  recorded the expiry.
- ``use``: the grant's one use, by the requester, for the same body on the same endpoint, rule and policy version.
- ``escalate``: once, when a pending request is still undecided at ``escalate_at`` (actor ``system``): the rule's
  escalation groups join the approvers. The state stays ``pending``.
- ``break_glass``: the requester of a new pending request, a member of one of the rule's break-glass groups,
  grants it themselves with a reason; the approval is ``approved`` and flagged for review (``review: pending``).
- ``acknowledge``: someone other than the requester (an auditor, or a member of the approver groups) reviews a
  break-glass approval, with a reason; whatever its state, ``review`` becomes ``acknowledged``.

Reasons: the rule's ``approval.reason`` is kept on the approval (``reason_from``), so an approver of an outstanding
approval is asked for a reason exactly as the rule said when it was made, whatever a later policy says.

The policy version binding: a grant is good only under the very policy version that asked for it (the digest of the
whole policy file, ``CompiledPolicy.digest``), and only for a decision by the same rule. A reload that changes
anything in the file, not just the rule, ends the use of outstanding grants (``approval_mismatch``, ``details
['mismatch'] == 'policy'``): what a grant lets through depends on more than the rule (the levels, the models'
levels, the other rules' masking), and comparing the rule alone would miss a change there. The cost, re-asking for
approval after an unrelated edit, is small next to a grant wider than what was approved.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final, Protocol

import orjson

from clearance.approvals.model import MAX_REASON_CHARS, ApprovalRequest, ApprovalState, Requester, Transition
from clearance.exceptions import (
    AlreadyApproved,
    ApprovalCancelled,
    ApprovalDenied,
    ApprovalExpired,
    ApprovalMismatch,
    ApprovalPending,
    ApprovalStateError,
    ApprovalUsed,
    BreakGlassNotAllowed,
    EscalationNotDue,
    InvalidRequest,
    NoReviewPending,
    NotAnApprover,
    NotTheRequester,
    SelfApproval,
    SelfReview,
)
from clearance.models import ReasonFrom

SYSTEM: Final = "system"
"""The actor of an expiry."""


class Actor(Protocol):
    """Whoever acts on an approval, as the gateway authenticated them: a ``Requester`` or a
    ``clearance.models.Identity``."""

    @property
    def subject(self) -> str: ...

    @property
    def email(self) -> str | None: ...

    @property
    def groups(self) -> tuple[str, ...]: ...


def canonical_body_sha256(body: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``body`` as canonical JSON (keys sorted at every depth, no whitespace, UTF-8), so the same
    request sent again hashes the same whatever the order of its keys."""
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def check_reason(reason: str, *, required: bool, who: str, param: str = "reason") -> str:
    """The reason as kept (surrounding whitespace stripped); refused when too long or required and missing.
    ``param`` names where the reason came from in the refusal (a body field, or a header)."""
    kept = reason.strip()
    if len(kept) > MAX_REASON_CHARS:
        raise InvalidRequest(
            f"the {who}'s reason is {len(kept)} characters long; keep it to {MAX_REASON_CHARS}",
            code="reason_too_long",
            param=param,
        )
    if required and not kept:
        raise InvalidRequest(f"this rule asks the {who} for a reason: give one", code="reason_required", param=param)
    return kept


ID_PREFIX: Final = "apr_"
"""Every approval id starts so: recognisable in logs and chat, and never with ``-``, which a command line would
read as an option (``clearance approvals show -d…``)."""
_ID_SHAPE: Final = re.compile(r"[A-Za-z0-9_-]{16,64}")


def is_approval_id(text: str) -> bool:
    """Whether ``text`` has the shape of an id the gateway issues (``secrets.token_urlsafe``): anything else is
    caller text, never looked up nor repeated."""
    return _ID_SHAPE.fullmatch(text) is not None


def new_approval(
    *,
    requester: Requester,
    model: str,
    endpoint: str,
    rule: str,
    reasons: Sequence[str],
    level: str,
    counts: Mapping[str, int],
    preview: str,
    body_sha256: str,
    policy_version: str,
    approvers: Sequence[str],
    approvals_needed: int,
    grant_seconds: float,
    pending_seconds: float,
    now: float,
    requester_reason: str = "",
    reason_required: bool = False,
    reason_from: ReasonFrom = "none",
    escalate_to: Sequence[str] = (),
    escalate_after: float | None = None,
    released_as: Mapping[str, str] | None = None,
) -> ApprovalRequest:
    """A pending approval request, expiring undecided ``pending_seconds`` from ``now``. ``reason_from`` (the
    rule's ``approval.reason``) is kept with it; the requester's reason is required when it or ``reason_required``
    says so. With ``escalate_to``, the request escalates ``escalate_after`` seconds from ``now``."""
    if not approvers:
        raise ValueError("an approval needs at least one approver group")
    if approvals_needed < 1:
        raise ValueError("an approval needs at least one approval")
    if grant_seconds <= 0 or pending_seconds <= 0:
        raise ValueError("the grant and pending lifetimes must be positive")
    if bool(escalate_to) != (escalate_after is not None) or (escalate_after is not None and escalate_after <= 0):
        raise ValueError("an escalation needs both its groups and a positive delay")
    required = reason_required or reason_from in ("requester", "both")
    kept = check_reason(requester_reason, required=required, who="requester")
    return ApprovalRequest(
        id=ID_PREFIX + secrets.token_urlsafe(24),
        requester=requester,
        model=model,
        endpoint=endpoint,
        rule=rule,
        reasons=tuple(reasons),
        level=level,
        counts=dict(counts),
        preview=preview,
        body_sha256=body_sha256,
        policy_version=policy_version,
        approvers=tuple(approvers),
        approvals_needed=approvals_needed,
        grant_seconds=grant_seconds,
        created_at=now,
        expires_at=now + pending_seconds,
        requester_reason=kept,
        released_as=dict(released_as or {}),
        history=(Transition("pending", requester.subject, now, kept),),
        reason_from=reason_from,
        escalate_to=tuple(escalate_to),
        escalate_at=None if escalate_after is None else now + escalate_after,
    )


def lapsed(approval: ApprovalRequest, now: float) -> bool:
    """True when a pending request or a grant has outlived ``expires_at`` (whether or not it is recorded yet)."""
    return approval.state in ("pending", "approved") and now >= approval.expires_at


def _step(
    approval: ApprovalRequest, state: ApprovalState, actor: str, now: float, reason: str = "", **changes: Any
) -> ApprovalRequest:
    return replace(approval, state=state, history=(*approval.history, Transition(state, actor, now, reason)), **changes)


def _refuse_final(approval: ApprovalRequest, now: float) -> None:
    """Raise the error that says why nothing more can happen to an approval that has ended (or lapsed)."""
    state = "expired" if lapsed(approval, now) else approval.state
    if state == "denied":
        raise ApprovalDenied(f"approval {approval.id} was denied: nothing can be done with it")
    if state == "expired":
        raise ApprovalExpired(f"approval {approval.id} has expired: send the request again to ask anew")
    if state == "cancelled":
        raise ApprovalCancelled(f"approval {approval.id} was cancelled by its requester: send the request again")
    if state == "used":
        raise ApprovalUsed(f"approval {approval.id} was used already: a grant is good for one request")


def _require_pending(approval: ApprovalRequest, now: float) -> None:
    _refuse_final(approval, now)
    if approval.state == "approved":
        raise AlreadyApproved(f"approval {approval.id} is approved already: it can no longer be decided or cancelled")


def _is_requester(approval: ApprovalRequest, actor: Actor) -> bool:
    """The same person: the same subject, or (across identity kinds: a key and an OIDC login) the same email."""
    if actor.subject == approval.requester.subject:
        return True
    mine, theirs = actor.email, approval.requester.email
    return mine is not None and theirs is not None and mine.casefold() == theirs.casefold()


def _handles(subject: str, email: str | None) -> set[str]:
    """The names one person goes by: the subject, the email (case-folded), and a subject that is an email
    (case-folded): an API key's subject is its owner, which operators write as the person's email."""
    names = {subject}
    if "@" in subject:
        names.add(subject.casefold())
    if email:
        names.add(email.casefold())
    return names


def _may_be_the_same_person(actor: Actor, subject: str, email: str | None = None) -> bool:
    """True when ``actor`` and (``subject``, ``email``) share a name: for refusals only (deciding one's own
    request, approving twice, reviewing one's own break-glass), where a false match costs another approver and a
    missed one lets someone decide for themselves. Rights (cancelling, reading, spending) stay with
    ``_is_requester``."""
    return bool(_handles(actor.subject, actor.email) & _handles(subject, email))


def _require_approver(approval: ApprovalRequest, actor: Actor) -> None:
    requester = approval.requester
    if _is_requester(approval, actor) or _may_be_the_same_person(actor, requester.subject, requester.email):
        raise SelfApproval(f"approval {approval.id} is your own request: someone else must decide it")
    if not set(actor.groups) & set(approval.approvers):
        raise NotAnApprover(
            f"only members of {', '.join(approval.approvers)} may decide approval {approval.id}",
            details={"approvers": list(approval.approvers)},
        )


def approve(
    approval: ApprovalRequest, actor: Actor, reason: str = "", *, now: float, reason_required: bool = False
) -> ApprovalRequest:
    """One approval by ``actor``; the last one needed grants the request for ``grant_seconds``."""
    _require_pending(approval, now)
    _require_approver(approval, actor)
    names = _handles(actor.subject, actor.email)
    known = {*approval.approver_names, *(name for s in approval.approved_by for name in _handles(s, None))}
    if names & known:
        # the same person under another login (an API key owned by their email) is not another approver
        raise AlreadyApproved(f"you approved {approval.id} already: it needs another approver")
    kept = check_reason(reason, required=reason_required or approval.approver_reason_required, who="approver")
    approved_by = (*approval.approved_by, actor.subject)
    approver_names = tuple(sorted({*approval.approver_names, *names}))
    if len(approved_by) < approval.approvals_needed:
        return _step(
            approval, "pending", actor.subject, now, kept, approved_by=approved_by, approver_names=approver_names
        )
    return _step(
        approval,
        "approved",
        actor.subject,
        now,
        kept,
        approved_by=approved_by,
        approver_names=approver_names,
        expires_at=now + approval.grant_seconds,
    )


def deny(
    approval: ApprovalRequest, actor: Actor, reason: str = "", *, now: float, reason_required: bool = False
) -> ApprovalRequest:
    """A denial by ``actor``: one is enough, whatever approvals came before."""
    _require_pending(approval, now)
    _require_approver(approval, actor)
    kept = check_reason(reason, required=reason_required or approval.approver_reason_required, who="approver")
    return _step(approval, "denied", actor.subject, now, kept)


def cancel(approval: ApprovalRequest, actor: Actor, reason: str = "", *, now: float) -> ApprovalRequest:
    """The requester withdraws a pending request."""
    if not _is_requester(approval, actor):
        raise NotTheRequester(f"only the requester may cancel approval {approval.id}")
    _require_pending(approval, now)
    return _step(approval, "cancelled", actor.subject, now, check_reason(reason, required=False, who="requester"))


def expire(approval: ApprovalRequest, *, now: float) -> ApprovalRequest:
    """Record the end of a pending request or of a grant whose time is over (actor ``system``)."""
    if not lapsed(approval, now):
        _refuse_final(approval, now)
        raise ApprovalStateError(f"approval {approval.id} does not expire before {approval.expires_at}")
    return _step(approval, "expired", SYSTEM, now)


def use(
    approval: ApprovalRequest,
    actor: Actor,
    *,
    body_sha256: str,
    endpoint: str,
    rule: str,
    policy_version: str,
    now: float,
) -> ApprovalRequest:
    """Spend the grant on the request the gateway holds now: ``body_sha256`` of its canonical body, the
    ``endpoint`` it came to, and the rule and policy version that decided it (the module's docstring says why the
    whole policy version must match). The endpoint is bound as well as the body: one body means different things on
    different endpoints (``{"model", "messages"}`` is both an OpenAI chat and an Ollama ``/api/chat``, which streams
    by default and takes other options), and the approvers were shown the endpoint it was asked for."""
    if actor.subject != approval.requester.subject:
        # first, so another identity learns nothing about the approval's state
        raise ApprovalMismatch(
            f"approval {approval.id} was granted to another identity", details={"mismatch": "requester"}
        )
    _refuse_final(approval, now)
    # the bindings before the state: a request the grant can never cover is refused at once, and not told to wait
    # (X-Clearance-Wait) for an approval it could not spend
    if body_sha256 != approval.body_sha256:
        raise ApprovalMismatch(
            f"approval {approval.id} was granted for another request body: send exactly the approved request",
            details={"mismatch": "body"},
        )
    if endpoint != approval.endpoint:
        raise ApprovalMismatch(
            f"approval {approval.id} was granted for the {approval.endpoint} endpoint: send the request there",
            details={"mismatch": "endpoint"},
        )
    if rule != approval.rule:
        raise ApprovalMismatch(
            f"approval {approval.id} was granted under rule {approval.rule}, and rule {rule} decides this request now",
            details={"mismatch": "rule"},
        )
    if policy_version != approval.policy_version:
        raise ApprovalMismatch(
            f"the policy changed since approval {approval.id} was granted: ask for approval again",
            details={"mismatch": "policy"},
        )
    if approval.state == "pending":
        raise ApprovalPending(
            f"approval {approval.id} waits for {approval.approvals_needed - len(approval.approved_by)} more approval(s)"
        )
    return _step(approval, "used", actor.subject, now)


def escalation_due(approval: ApprovalRequest, now: float) -> bool:
    """True when a pending, unlapsed request with an escalation is undecided at its ``escalate_at``."""
    return (
        approval.state == "pending"
        and approval.escalated_at is None
        and approval.escalate_at is not None
        and now >= approval.escalate_at
        and not lapsed(approval, now)
    )


def escalate(approval: ApprovalRequest, *, now: float) -> ApprovalRequest:
    """Record the escalation (actor ``system``): the escalation groups join the approvers. Once only: a second
    escalation, or one not due, is refused (``escalation_not_due``), so two instances record it once."""
    _refuse_final(approval, now)
    if not escalation_due(approval, now):
        raise EscalationNotDue(f"approval {approval.id} has no escalation due now")
    joined = tuple(dict.fromkeys((*approval.approvers, *approval.escalate_to)))
    why = f"escalated to {', '.join(approval.escalate_to)}"
    return _step(approval, "pending", SYSTEM, now, why, approvers=joined, escalated_at=now)


def break_glass(
    approval: ApprovalRequest, actor: Actor, reason: str, *, groups: Collection[str], now: float, param: str = "reason"
) -> ApprovalRequest:
    """The requester of a new pending request grants it themselves: allowed only to a member of ``groups`` (the
    rule's break-glass groups), with a reason (``param`` names where it came from). The grant starts now and the
    approval is flagged for review."""
    if not _is_requester(approval, actor):
        raise NotTheRequester(f"only the requester may break the glass on approval {approval.id}")
    if approval.state != "pending" or len(approval.history) != 1:
        raise ApprovalStateError(f"approval {approval.id} was acted on already: break-glass is for a new request")
    if not set(actor.groups) & set(groups):
        raise BreakGlassNotAllowed(
            "this rule allows no break-glass for your groups: ask an approver instead (send the request without "
            "X-Clearance-Break-Glass)"
        )
    kept = check_reason(reason, required=True, who="requester", param=param)
    return _step(
        approval,
        "approved",
        actor.subject,
        now,
        kept,
        approved_by=(actor.subject,),
        expires_at=now + approval.grant_seconds,
        break_glass=True,
        review="pending",
    )


def acknowledge(approval: ApprovalRequest, actor: Actor, reason: str, *, now: float, auditor: bool) -> ApprovalRequest:
    """Review a break-glass approval, with a reason: an ``auditor``, or a member of its approver groups; never its
    requester. The state stays what it is; the transition records who, when and why."""
    if not approval.break_glass or approval.review != "pending":
        raise NoReviewPending(f"approval {approval.id} is not a break-glass awaiting review: nothing to acknowledge")
    requester = approval.requester
    if _is_requester(approval, actor) or _may_be_the_same_person(actor, requester.subject, requester.email):
        raise SelfReview(f"approval {approval.id} is your own break-glass: someone else must acknowledge it")
    if not auditor and not set(actor.groups) & set(approval.approvers):
        raise NotAnApprover(
            f"only an auditor or a member of {', '.join(approval.approvers)} may acknowledge approval {approval.id}",
            details={"approvers": list(approval.approvers)},
        )
    kept = check_reason(reason, required=True, who="reviewer")
    return _step(
        approval,
        approval.state,
        actor.subject,
        now,
        f"acknowledged: {kept}",
        review="acknowledged",
        reviewed_by=actor.subject,
        reviewed_at=now,
        review_reason=kept,
    )
