"""Expiry and escalation, recorded. A pending request nobody decided, or a grant nobody used, is marked ``expired``
in the store when its time is over, and the notifiers are told. Until the sweep reaches it, every transition
already refuses a lapsed approval (``approval_expired``) and the admin API shows it expired; the sweep makes the
store and the notifiers say so too. A pending request still undecided when its rule's escalation falls due is
escalated: the escalation groups join its approvers and the notifiers are told (``escalated``). One sweep is a
single pass over what is due, so several gateway instances may sweep the same database: the store's optimistic
writes let exactly one of them record each expiry and each escalation."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from clearance.approvals.notifiers import Notify
from clearance.approvals.store import ApprovalStore

log = logging.getLogger("clearance.approvals")


class ExpirySweeper:
    """Sweeps ``store`` every ``interval`` seconds (``run``), or once (``sweep``): expiries, then escalations."""

    def __init__(
        self,
        store: ApprovalStore,
        notify: Notify,
        *,
        interval: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if interval <= 0:
            raise ValueError("the sweep interval must be positive")
        self._store = store
        self._notify = notify
        self._interval = interval
        self._clock = clock
        self._sleep = sleep

    async def sweep(self) -> int:
        """Record every expiry that is due and notify it, then every escalation (``escalate``); how many expiries
        were recorded."""
        expired = await asyncio.to_thread(self._store.expire_due, now=self._clock())
        for approval in expired:
            self._notify("expired", approval)
        await self.escalate()
        return len(expired)

    async def escalate(self) -> int:
        """Record every escalation that is due and notify it; how many were recorded."""
        escalated = await asyncio.to_thread(self._store.escalate_due, now=self._clock())
        for approval in escalated:
            self._notify("escalated", approval)
        return len(escalated)

    async def run(self) -> None:
        """Sweep until cancelled. A sweep that fails (the database is away) is logged and tried again next time:
        nothing is lost, since what is due stays due."""
        while True:
            try:
                await self.sweep()
            except Exception as exc:
                log.error("approval expiry sweep failed", extra={"error": type(exc).__name__})  # or escalation
            await self._sleep(self._interval)
