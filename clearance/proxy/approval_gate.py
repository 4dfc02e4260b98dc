"""Holding a ``require_approval`` request until approvers grant it, and letting it through once with its grant.

- Without ``X-Clearance-Approval``: ``ApprovalGate.ask`` stores an approval request (or finds the identical one
  pending: same requester, same canonical body, same rule, so approvers see one request however often it is sent)
  and the caller is refused with 403 ``approval_required``, which says the approval's id, when it expires, where
  approvers find it and the command they run (``clearance.proxy.decisions.approval_required``).
- With ``X-Clearance-Approval: <id>``: ``ApprovalGate.spend`` uses the grant, atomically, for this requester, this
  body's hash, and the rule and policy version deciding now (``clearance.approvals.lifecycle.use``); any other
  case is refused with its precise code (``approval_pending``, ``approval_denied``, ``approval_expired``,
  ``approval_used``, ``approval_mismatch``, ``approval_not_found``…).

The store is blocking: every call to it runs in a thread. Times come from the clock given (``time.time`` by
default), so tests control expiry without sleeping.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Mapping
from typing import Final

from clearance.approvals.lifecycle import new_approval, use
from clearance.approvals.model import ApprovalRequest, Requester
from clearance.approvals.notifiers import Notify, notify_nobody
from clearance.approvals.settings import ApprovalSettings
from clearance.approvals.store import ApprovalStore
from clearance.exceptions import ApprovalNotFound
from clearance.models import Decision, Identity

APPROVAL_HEADER: Final = "X-Clearance-Approval"
"""The header that presents an approval's grant: the id the ``approval_required`` refusal gave."""
REASON_HEADER: Final = "X-Clearance-Reason"
"""The header where a requester says why they need the request (optional; approvers read it)."""
_APPROVAL_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
"""What an id the gateway issues looks like (``secrets.token_urlsafe``); anything else is not looked up."""

Clock = Callable[[], float]


def requester_of(identity: Identity) -> Requester:
    """The requester of an approval, as the gateway authenticated them."""
    return Requester(subject=identity.subject, kind=identity.kind, email=identity.email, groups=identity.groups)


class ApprovalGate:
    """Asks for approvals and spends grants, in the shared approval store. Built once per application."""

    def __init__(
        self,
        store: ApprovalStore,
        settings: ApprovalSettings,
        *,
        clock: Clock = time.time,
        notify: Notify = notify_nobody,
    ) -> None:
        """``notify`` tells the approvers' notifiers of a new approval request (``Notifications.notify``)."""
        self.store = store
        self.settings = settings
        self._clock = clock
        self._notify = notify

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
        requirement = decision.approval
        if decision.action != "require_approval" or requirement is None:
            raise ValueError("only a require_approval decision asks for an approval")
        now = self._clock()
        approval = new_approval(
            requester=requester_of(identity),
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
            released_as=released_as,
        )
        created = await asyncio.to_thread(self.store.create, approval, now=now, max_pending=self.settings.max_pending)
        if not created.reused:  # an identical request already pending was notified when it was made
            self._notify("requested", created.approval)
        return created.approval

    async def spend(
        self, approval_id: str, identity: Identity, *, body_sha256: str, decision: Decision
    ) -> ApprovalRequest:
        """Use the grant ``approval_id`` for this request, once; raises the precise refusal otherwise."""
        # the header is caller text until the store knows it: never repeated in the refusal
        unknown = ApprovalNotFound(
            f"no approval has the id in the {APPROVAL_HEADER} header: send the id the approval_required refusal gave"
        )
        if not _APPROVAL_ID.fullmatch(approval_id):
            raise unknown
        now = self._clock()
        actor = requester_of(identity)
        try:
            return await asyncio.to_thread(
                self.store.apply,
                approval_id,
                lambda approval: use(
                    approval,
                    actor,
                    body_sha256=body_sha256,
                    rule=decision.rule,
                    policy_version=decision.policy_version,
                    now=now,
                ),
            )
        except ApprovalNotFound:
            raise unknown from None
