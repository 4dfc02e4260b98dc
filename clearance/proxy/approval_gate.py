"""Holding a ``require_approval`` request until approvers grant it, and letting it through once with its grant.

- Without ``X-Clearance-Approval``: ``ApprovalGate.ask`` stores an approval request (or finds the identical one
  pending: same requester, same canonical body, same rule, so approvers see one request however often it is sent)
  and the caller is refused with 403 ``approval_required``, which says the approval's id, when it expires, where
  approvers find it and the command they run (``clearance.proxy.decisions.approval_required``).
- With ``X-Clearance-Approval: <id>``: ``ApprovalGate.spend`` uses the grant, atomically, for this requester, this
  body's hash on this endpoint, and the rule and policy version deciding now (``clearance.approvals.lifecycle.use``);
  any other case is refused with its precise code (``approval_pending``, ``approval_denied``, ``approval_expired``,
  ``approval_used``, ``approval_mismatch``, ``approval_not_found``…).
- With ``X-Clearance-Break-Glass: <reason>``: ``ApprovalGate.break_glass`` lets a member of one of the rule's
  break-glass groups grant their own request at once (``clearance.approvals.lifecycle.break_glass``), tells every
  notifier (``break_glass``), and spends the grant on this request; the approval stays flagged for review until
  someone acknowledges it. Anyone else: 403 ``break_glass_not_allowed``; no reason: 400 ``reason_required``.

A rule with ``approval.reason: requester`` (or ``both``) refuses a request without a non-empty
``X-Clearance-Reason`` (400 ``reason_required``) before any approval is made.
- With ``X-Clearance-Wait: <seconds>`` as well (wait mode, ``wait_seconds``): the caller holds its request open
  while approvers decide; ``ApprovalGate.wait`` returns when the approval leaves ``pending`` (or lapses) or the
  time is up. It wakes on the release signal (``clearance.approvals.signals``: at once in this process, through
  PostgreSQL's ``NOTIFY`` from another instance) and reads the store again every ``poll_interval`` besides, so a
  lost signal costs at most that long. One requester holds at most ``max_waiting`` such requests open at once on
  this instance (``ApprovalGate.waiting_slot``); one more is refused with 429 ``too_many_waiting``, since each
  holds a connection, a task and a store read every ``poll_interval``. When the gateway stops (``end_waits``, from
  its drain), every wait ends with 503 ``gateway_draining`` and ``Retry-After``: the approval stays pending, and the
  caller sends the request again, with its id, to an instance that is not stopping.

The store is blocking: every call to it runs in a thread. Times come from the clock given (``time.time`` by
default), so tests control expiry without sleeping.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from clearance.approvals.lifecycle import break_glass, check_reason, is_approval_id, lapsed, new_approval, use
from clearance.approvals.model import ApprovalRequest, Requester
from clearance.approvals.notifiers import Notify, notify_nobody
from clearance.approvals.settings import ApprovalSettings
from clearance.approvals.signals import ApprovalSignals
from clearance.approvals.store import ApprovalStore
from clearance.exceptions import (
    ApprovalNotFound,
    BreakGlassNotAllowed,
    GatewayDraining,
    InvalidRequest,
    TooManyWaiting,
)
from clearance.models import ApprovalRequirement, Decision, Identity

APPROVAL_HEADER: Final = "X-Clearance-Approval"
"""The header that presents an approval's grant: the id the ``approval_required`` refusal gave."""
REASON_HEADER: Final = "X-Clearance-Reason"
"""The header where a requester says why they need the request (optional unless the rule asks; approvers read
it)."""
BREAK_GLASS_HEADER: Final = "X-Clearance-Break-Glass"
"""The header where a requester in a break-glass group says why they grant their own request now."""
WAIT_HEADER: Final = "X-Clearance-Wait"
"""The header that asks to hold the request open until a decision, for at most this many seconds."""
WAIT_CAPPED_HEADER: Final = "X-Clearance-Wait-Capped"
"""Sent back with the seconds actually waited for, when the wait asked for was over ``max_wait``."""
_WAIT_VALUE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,6})?")

Clock = Callable[[], float]


def wait_seconds(value: str | None, settings: ApprovalSettings) -> tuple[float, bool] | None:
    """The seconds to wait for a decision that ``X-Clearance-Wait`` asks (``value``), cut to ``max_wait``, and
    whether it was cut. None: no wait (no header, a wait of 0, or wait mode off). A value that is not a
    non-negative number of seconds is refused (400 ``invalid_request``)."""
    if value is None:
        return None
    text = value.strip()
    if not _WAIT_VALUE.fullmatch(text):
        raise InvalidRequest(
            f"the {WAIT_HEADER} header must be a number of seconds to wait for a decision, such as 30",
            param=WAIT_HEADER,
        )
    seconds = float(text)
    if seconds <= 0 or settings.max_wait <= 0:
        return None
    if seconds > settings.max_wait:
        return settings.max_wait, True
    return seconds, False


def requester_of(identity: Identity) -> Requester:
    """The requester of an approval, as the gateway authenticated them."""
    return Requester(
        subject=identity.subject,
        kind=identity.kind,
        email=identity.email,
        groups=identity.groups,
        key_id=identity.key_id,
    )


class ApprovalGate:
    """Asks for approvals and spends grants, in the shared approval store. Built once per application."""

    def __init__(
        self,
        store: ApprovalStore,
        settings: ApprovalSettings,
        *,
        clock: Clock = time.time,
        notify: Notify = notify_nobody,
        signals: ApprovalSignals | None = None,
    ) -> None:
        """``notify`` tells the approvers' notifiers of a new approval request (``Notifications.notify``);
        ``signals`` wake a waiting request when its approval changes (the ones ``store`` publishes to; None: the
        waiter reads the store every ``poll_interval`` only)."""
        self.store = store
        self.settings = settings
        self.signals = signals or ApprovalSignals()
        self.clock = clock
        self._notify = notify
        self._waiting: Counter[str] = Counter()
        """Requests held open waiting for a decision now, per requester's subject (this instance only)."""
        self._waits_ended = False

    @contextmanager
    def waiting_slot(self, identity: Identity) -> Iterator[None]:
        """One of the requester's ``max_waiting`` places to wait for a decision, held while the block runs;
        ``too_many_waiting`` (429) when they are all taken. Taken and given back on the event loop's thread."""
        subject = identity.subject
        if self._waiting[subject] >= self.settings.max_waiting:
            raise TooManyWaiting(
                f"you already have {self.settings.max_waiting} requests waiting for a decision: let one finish, or "
                f"send this one without {WAIT_HEADER} and come back with {APPROVAL_HEADER} once it is approved"
            )
        self._waiting[subject] += 1
        try:
            yield
        finally:
            self._waiting[subject] -= 1
            if not self._waiting[subject]:
                del self._waiting[subject]

    async def ask(
        self,
        *,
        identity: Identity,
        model: str,
        endpoint: str,
        decision: Decision,
        preview: str,
        body_sha256: str,
        reason: str,
        released_as: Mapping[str, str],
    ) -> ApprovalRequest:
        """The pending approval for this request: a new one, or the identical one already pending.
        ``too_many_pending`` (429) when the requester has ``max_pending`` pending already."""
        requirement = self._requirement(decision)
        if requirement.requester_reason_required and not reason.strip():
            raise InvalidRequest(
                f"this rule asks you why you need this request: say so in the {REASON_HEADER} header",
                code="reason_required",
                param=REASON_HEADER,
            )
        now = self.clock()
        approval = self._new(
            requester_of(identity),
            decision,
            model=model,
            endpoint=endpoint,
            preview=preview,
            body_sha256=body_sha256,
            released_as=released_as,
            reason=reason,
            now=now,
            escalates=True,
        )
        created = await asyncio.to_thread(self.store.create, approval, now=now, max_pending=self.settings.max_pending)
        if not created.reused:  # an identical request already pending was notified when it was made
            self._notify("requested", created.approval)
        return created.approval

    def _new(
        self,
        requester: Requester,
        decision: Decision,
        *,
        model: str,
        endpoint: str,
        preview: str,
        body_sha256: str,
        released_as: Mapping[str, str],
        reason: str,
        now: float,
        escalates: bool,
    ) -> ApprovalRequest:
        """A new approval of this held request under its decision's requirement (``lifecycle.new_approval``): what
        ``ask`` stores pending and ``break_glass`` grants at once."""
        requirement = self._requirement(decision)
        return new_approval(
            requester=requester,
            model=model,
            endpoint=endpoint,
            rule=decision.rule,
            reasons=decision.reasons,
            level=decision.level,
            counts=decision.counts,
            preview=preview,
            body_sha256=body_sha256,
            policy_version=decision.policy_version,
            approvers=requirement.approvers,
            approvals_needed=requirement.approvals,
            grant_seconds=requirement.grant_seconds,
            pending_seconds=self.settings.pending_lifetime,
            now=now,
            requester_reason=reason,
            reason_from=requirement.reason_from,
            escalate_to=requirement.escalate_to if escalates else (),
            escalate_after=requirement.escalate_after if escalates else None,
            released_as=released_as,
        )

    @staticmethod
    def _requirement(decision: Decision) -> ApprovalRequirement:
        if decision.action != "require_approval" or decision.approval is None:
            raise ValueError("only a require_approval decision asks for an approval")
        return decision.approval

    async def break_glass(
        self,
        *,
        identity: Identity,
        model: str,
        endpoint: str,
        decision: Decision,
        preview: str,
        body_sha256: str,
        reason: str,
        released_as: Mapping[str, str],
    ) -> ApprovalRequest:
        """Grant the requester's own request at once, as the rule's break-glass allows, tell every notifier, and
        spend the grant on this request: the used approval. ``break_glass_not_allowed`` (403) when the rule has no
        break-glass or none of the caller's groups is named; ``reason_required`` (400) without a reason."""
        requirement = self._requirement(decision)
        if not set(identity.groups) & set(requirement.break_glass_groups):
            raise BreakGlassNotAllowed(
                f"rule {decision.rule} allows no break-glass for your groups: send the request without "
                f"{BREAK_GLASS_HEADER} and ask its approvers"
            )
        now = self.clock()
        requester = requester_of(identity)
        asked = self._new(
            requester,
            decision,
            model=model,
            endpoint=endpoint,
            preview=preview,
            body_sha256=body_sha256,
            released_as=released_as,
            reason=check_reason(reason, required=True, who="requester", param=BREAK_GLASS_HEADER),
            now=now,
            escalates=False,  # granted at once: nobody is left to escalate to
        )
        granted = break_glass(
            asked,
            requester,
            reason,
            groups=requirement.break_glass_groups,
            now=now,
            param=BREAK_GLASS_HEADER,
        )
        await asyncio.to_thread(self.store.record_break_glass, granted)
        self._notify("break_glass", granted)
        return await self.spend(granted.id, identity, body_sha256=body_sha256, endpoint=endpoint, decision=decision)

    async def spend(
        self, approval_id: str, identity: Identity, *, body_sha256: str, endpoint: str, decision: Decision
    ) -> ApprovalRequest:
        """Use the grant ``approval_id`` for this request (``endpoint``: the name of the endpoint it came to), once;
        raises the precise refusal otherwise."""
        # the header is caller text until the store knows it: never repeated in the refusal
        unknown = ApprovalNotFound(
            f"no approval has the id in the {APPROVAL_HEADER} header: send the id the approval_required refusal gave"
        )
        if not is_approval_id(approval_id):
            raise unknown
        now = self.clock()
        actor = requester_of(identity)
        try:
            return await asyncio.to_thread(
                self.store.apply,
                approval_id,
                lambda approval: use(
                    approval,
                    actor,
                    body_sha256=body_sha256,
                    endpoint=endpoint,
                    rule=decision.rule,
                    policy_version=decision.policy_version,
                    now=now,
                ),
            )
        except ApprovalNotFound:
            raise unknown from None

    def end_waits(self) -> None:
        """The gateway stops (its drain, docs/scaling.md): every wait, now or later, ends with 503
        ``gateway_draining``, which tells the caller to send the request again with its approval's id. The approvals
        stay pending in the store, so another instance (or this one, restarted) takes the request up."""
        self._waits_ended = True
        self.signals.publish_all()  # wake every waiter on this instance, to end its wait

    async def wait(self, approval_id: str, seconds: float) -> ApprovalRequest:
        """The approval once it has left ``pending`` or lapsed, or as it stands after ``seconds``: read from the
        store on every release signal and every ``poll_interval``. Cancelling the wait changes nothing stored.
        ``gateway_draining`` (503) once ``end_waits`` was called."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        with self.signals.watch(approval_id) as watch:
            while True:  # bounded by the deadline
                watch.arm()
                if self._waits_ended:
                    raise GatewayDraining(
                        f"this gateway instance is shutting down, so it stopped waiting for approval {approval_id}, "
                        f"which stays pending: send the request again with {APPROVAL_HEADER}: {approval_id} "
                        f"(and {WAIT_HEADER} to wait for the decision)"
                    )
                approval = await asyncio.to_thread(self.store.get, approval_id)
                if approval.state != "pending" or lapsed(approval, self.clock()):
                    return approval
                left = deadline - loop.time()
                if left <= 0:
                    return approval
                await watch.changed(min(left, self.settings.poll_interval))
