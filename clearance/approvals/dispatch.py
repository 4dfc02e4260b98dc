"""Delivery of approval events to every notifier, off the request path.

``publish`` only puts the event on each notifier's queue and returns: it never waits, never raises, and a slow or
failing notifier delays nobody but itself. Each notifier has one owned worker task (``clearance.tasks.TaskSet``)
that sends its events in order, retrying a failure with exponential backoff (``RetryConfig``) and bounding every
attempt by the notifier's timeout. ``close`` drains what is queued and in flight, for at most ``drain_timeout``
seconds, then stops the workers and counts what was left. Logs name the notifier, the event kind, the approval id
and the error's kind; never payload text.

Sleep and clock are injected so tests retry and time events without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from clearance.approvals.config import EVENT_KINDS, EventKind, RetryConfig
from clearance.approvals.model import ApprovalRequest
from clearance.approvals.notify import ApprovalEvent, DeliveryFailed, Notifier, approval_link
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.approvals.notify")


@dataclass(frozen=True, slots=True)
class DeliveryCounts:
    """Per notifier, or summed: events delivered, given up on, attempts retried, and events dropped (the queue was
    full, the dispatcher closed, or the drain ran out of time)."""

    sent: int = 0
    failed: int = 0
    retried: int = 0
    dropped: int = 0

    def __add__(self, other: DeliveryCounts) -> DeliveryCounts:
        return DeliveryCounts(
            self.sent + other.sent,
            self.failed + other.failed,
            self.retried + other.retried,
            self.dropped + other.dropped,
        )


@dataclass(frozen=True, slots=True)
class Route:
    """A notifier, the events it is sent and how long one attempt may take."""

    notifier: Notifier
    events: frozenset[EventKind] = frozenset(EVENT_KINDS)
    timeout: float = 10.0


class _Lane:
    """One notifier's queue and counters (owned by the dispatcher, never shared)."""

    def __init__(self, route: Route, queue_size: int) -> None:
        self.route = route
        self.queue: asyncio.Queue[ApprovalEvent] = asyncio.Queue(maxsize=queue_size)
        self.counts = DeliveryCounts()
        self.outstanding = 0
        """Events queued or being delivered."""


class NotificationDispatcher:
    """Fans approval events out to notifiers; usable as ``async with`` (``start`` then ``close``)."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        public_url: str | None = None,
        retry: RetryConfig | None = None,
        queue_size: int = 10_000,
        drain_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        names = [r.notifier.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError("notifier names must be unique")
        self._lanes = [_Lane(route, queue_size) for route in routes]
        self._public_url = public_url
        self._retry = retry or RetryConfig()
        self._drain_timeout = drain_timeout
        self._clock = clock
        self._sleep = sleep
        self._tasks = TaskSet()
        self._started = False
        self._closed = False

    async def __aenter__(self) -> NotificationDispatcher:
        self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def start(self) -> None:
        """Start one worker per notifier (in the running loop). Events published before are kept and sent."""
        if self._started:
            return
        self._started = True
        for lane in self._lanes:
            _ = self._tasks.spawn(self._work(lane), name=f"notify-{lane.route.notifier.name}")

    def notify(self, kind: EventKind, approval: ApprovalRequest) -> None:
        """Publish ``kind`` for ``approval`` as it stands now, with its link and the current time."""
        self.publish(ApprovalEvent(kind, approval, approval_link(self._public_url, approval.id), self._clock()))

    def publish(self, event: ApprovalEvent) -> None:
        """Queue ``event`` for every notifier that takes its kind. Never blocks, never raises."""
        for lane in self._lanes:
            if event.kind not in lane.route.events:
                continue
            if self._closed:
                lane.counts += DeliveryCounts(dropped=1)
                log.error("notification dropped: dispatcher closed", extra=self._about(lane, event))
                continue
            try:
                lane.queue.put_nowait(event)
            except asyncio.QueueFull:
                lane.counts += DeliveryCounts(dropped=1)
                log.error("notification dropped: queue full", extra=self._about(lane, event))
            else:
                lane.outstanding += 1

    @property
    def counts(self) -> DeliveryCounts:
        total = DeliveryCounts()
        for lane in self._lanes:
            total += lane.counts
        return total

    @property
    def counts_by_notifier(self) -> Mapping[str, DeliveryCounts]:
        return {lane.route.notifier.name: lane.counts for lane in self._lanes}

    @property
    def pending(self) -> int:
        """Events queued or being delivered."""
        return sum(lane.outstanding for lane in self._lanes)

    async def close(self, timeout: float | None = None) -> None:
        """Stop taking events; wait up to ``timeout`` (``drain_timeout``) for the queued ones; stop the workers."""
        self._closed = True
        if self._started and self.pending:
            bound = self._drain_timeout if timeout is None else timeout
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(bound):
                    for lane in self._lanes:
                        await lane.queue.join()
        left = {lane: lane.outstanding for lane in self._lanes}
        await self._tasks.cancel_all()
        for lane, count in left.items():
            lane.outstanding = 0
            if count:
                lane.counts += DeliveryCounts(dropped=count)
                log.error(
                    "notifications dropped at shutdown",
                    extra={"notifier": lane.route.notifier.name, "count": count},
                )

    async def _work(self, lane: _Lane) -> None:
        while True:
            event = await lane.queue.get()
            try:
                await self._deliver(lane, event)
            finally:
                lane.outstanding -= 1
                lane.queue.task_done()

    async def _deliver(self, lane: _Lane, event: ApprovalEvent) -> None:
        attempts = self._retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(lane.route.timeout):
                    await lane.route.notifier.send(event)
            except Exception as exc:  # a notifier's bug must not stop its worker
                error = str(exc) if isinstance(exc, DeliveryFailed) else type(exc).__name__
                if attempt == attempts:
                    lane.counts += DeliveryCounts(failed=1)
                    log.error(
                        "notification failed, giving up",
                        extra={**self._about(lane, event), "attempts": attempt, "error": error},
                    )
                    return
                lane.counts += DeliveryCounts(retried=1)
                delay = self._retry.backoff(attempt)
                log.warning(
                    "notification failed, retrying",
                    extra={**self._about(lane, event), "attempt": attempt, "delay": delay, "error": error},
                )
                await self._sleep(delay)
            else:
                lane.counts += DeliveryCounts(sent=1)
                return

    @staticmethod
    def _about(lane: _Lane, event: ApprovalEvent) -> dict[str, object]:
        return {"notifier": lane.route.notifier.name, "event": event.kind, "approval": event.approval.id}
