"""Delivery of approval events to every notifier, off the request path.

``publish`` only puts the event on each notifier's queue and returns: it never waits, never raises, and a slow or
failing notifier delays nobody but itself. Each notifier has one owned worker task (``clearance.tasks.TaskSet``)
that sends its events in order, retrying a failure with exponential backoff (``RetryConfig``) and bounding every
attempt by the notifier's timeout. ``close`` drains what is queued and in flight, for at most ``drain_timeout``
seconds, then stops the workers and counts what was left. Logs name the notifier, the event kind, the approval id
and the error's kind; never payload text.

A route may be bound to one requester (a requester's own webhook): it takes only the events of that requester's
approvals. Every outcome (sent, failed, retried, dropped) and every change in a notifier's queue is reported to the
callbacks the owner passes (the application counts them in its metrics: this package sits below observability).

Sleep and clock are injected so tests retry and time events without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from clearance.approvals.config import EVENT_KINDS, EventKind, RetryConfig
from clearance.approvals.model import ApprovalRequest
from clearance.approvals.notify import ApprovalEvent, DeliveryFailed, Notifier, approval_api_link, approval_link
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.approvals.notify")

Outcome = Literal["sent", "failed", "retried", "dropped"]
OnOutcome = Callable[[str, EventKind, Outcome], None]
"""Told ``(notifier, event kind, outcome)`` once per event sent, failed or dropped, and once per attempt retried."""
OnQueueDepth = Callable[[str, int], None]
"""Told ``(notifier, events queued or being delivered)`` whenever that number changes."""


def ignore_outcome(_notifier: str, _kind: EventKind, _outcome: Outcome) -> None:
    """An ``OnOutcome`` for an owner that counts nothing."""


def ignore_queue_depth(_notifier: str, _depth: int) -> None:
    """An ``OnQueueDepth`` for an owner that watches nothing."""


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
    requester: str | None = None
    """Only the approvals of this requester (their subject, matched exactly); everyone's when None."""
    requester_kind: Literal["user", "service"] | None = None
    """With ``requester``: only a requester of this kind (``user`` or ``service``); either when None."""

    def takes(self, event: ApprovalEvent) -> bool:
        """Whether this notifier is sent ``event``: its kind is one it takes, and, for a requester's route, the
        approval is that requester's own (an anonymous requester is nobody's)."""
        if event.kind not in self.events:
            return False
        if self.requester is None:
            return True
        asker = event.approval.requester
        if asker.kind == "anonymous" or asker.subject != self.requester:
            return False
        return self.requester_kind is None or asker.kind == self.requester_kind


class _Lane:
    """One notifier's queue and counters (owned by the dispatcher, never shared)."""

    def __init__(self, route: Route, queue_size: int) -> None:
        self.route = route
        self.queue: asyncio.Queue[ApprovalEvent] = asyncio.Queue(maxsize=queue_size)
        self.counts = DeliveryCounts()
        self.outstanding = 0
        """Events queued or being delivered."""
        self.current: ApprovalEvent | None = None
        """The event being delivered."""

    @property
    def name(self) -> str:
        return self.route.notifier.name


class NotificationDispatcher:
    """Fans approval events out to notifiers; usable as ``async with`` (``start`` then ``close``)."""

    def __init__(
        self,
        routes: Sequence[Route],
        *,
        public_url: str | None = None,
        console: bool = True,
        retry: RetryConfig | None = None,
        queue_size: int = 10_000,
        drain_timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        on_outcome: OnOutcome = ignore_outcome,
        on_queue_depth: OnQueueDepth = ignore_queue_depth,
    ) -> None:
        names = [r.notifier.name for r in routes]
        if len(set(names)) != len(names):
            raise ValueError("notifier names must be unique")
        self._lanes = [_Lane(route, queue_size) for route in routes]
        self._public_url = public_url
        self._console = console
        """Whether the web console is served: the link opens the approval there, else in the admin API."""
        self._retry = retry or RetryConfig()
        self._drain_timeout = drain_timeout
        self._clock = clock
        self._sleep = sleep
        self._on_outcome = on_outcome
        self._on_queue_depth = on_queue_depth
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
            self._report_depth(lane)
            _ = self._tasks.spawn(self._work(lane), name=f"notify-{lane.route.notifier.name}")

    def notify(self, kind: EventKind, approval: ApprovalRequest) -> None:
        """Publish ``kind`` for ``approval`` as it stands now, with its links and the current time."""
        api_link = approval_api_link(self._public_url, approval.id)
        link = approval_link(self._public_url, approval.id) if self._console else api_link
        self.publish(ApprovalEvent(kind, approval, link, self._clock(), api_link))

    def publish(self, event: ApprovalEvent) -> None:
        """Queue ``event`` for every notifier that takes it (``Route.takes``). Never blocks, never raises."""
        for lane in self._lanes:
            if not lane.route.takes(event):
                continue
            if self._closed:
                self._count(lane, event.kind, "dropped")
                log.error("notification dropped: dispatcher closed", extra=self._about(lane, event))
                continue
            try:
                lane.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._count(lane, event.kind, "dropped")
                log.error("notification dropped: queue full", extra=self._about(lane, event))
            else:
                lane.outstanding += 1
                self._report_depth(lane)

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
        in_flight = {lane: lane.current for lane in self._lanes}
        await self._tasks.cancel_all()
        for lane, current in in_flight.items():
            left = [] if current is None else [current]
            while not lane.queue.empty():  # what the stopped worker never took
                left.append(lane.queue.get_nowait())
                lane.queue.task_done()
            lane.outstanding, lane.current = 0, None
            self._report_depth(lane)
            for event in left:
                self._count(lane, event.kind, "dropped")
            if left:
                log.error("notifications dropped at shutdown", extra={"notifier": lane.name, "count": len(left)})

    async def _work(self, lane: _Lane) -> None:
        while True:
            event = lane.current = await lane.queue.get()
            try:
                await self._deliver(lane, event)
            finally:
                lane.current = None
                lane.outstanding -= 1
                lane.queue.task_done()
                self._report_depth(lane)

    async def _deliver(self, lane: _Lane, event: ApprovalEvent) -> None:
        attempts = self._retry.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                async with asyncio.timeout(lane.route.timeout):
                    await lane.route.notifier.send(event)
            except Exception as exc:  # a notifier's bug must not stop its worker
                error = str(exc) if isinstance(exc, DeliveryFailed) else type(exc).__name__
                if attempt == attempts:
                    self._count(lane, event.kind, "failed")
                    log.error(
                        "notification failed, giving up",
                        extra={**self._about(lane, event), "attempts": attempt, "error": error},
                    )
                    return
                self._count(lane, event.kind, "retried")
                delay = self._retry.backoff(attempt)
                log.warning(
                    "notification failed, retrying",
                    extra={**self._about(lane, event), "attempt": attempt, "delay": delay, "error": error},
                )
                await self._sleep(delay)
            else:
                self._count(lane, event.kind, "sent")
                return

    def _count(self, lane: _Lane, kind: EventKind, outcome: Outcome) -> None:
        lane.counts += DeliveryCounts(**{outcome: 1})
        try:
            self._on_outcome(lane.name, kind, outcome)
        except Exception as exc:  # a metrics bug must not stop delivery
            log.error("notification outcome not reported", extra={"notifier": lane.name, "error": type(exc).__name__})

    def _report_depth(self, lane: _Lane) -> None:
        try:
            self._on_queue_depth(lane.name, lane.outstanding)
        except Exception as exc:  # a metrics bug must not stop delivery
            log.error("notification queue not reported", extra={"notifier": lane.name, "error": type(exc).__name__})

    @staticmethod
    def _about(lane: _Lane, event: ApprovalEvent) -> dict[str, object]:
        return {"notifier": lane.name, "event": event.kind, "approval": event.approval.id}
