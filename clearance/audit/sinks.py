"""Streaming written audit records to sinks (files, syslog, HTTP collectors), off the request path.

The store calls ``publish`` with the rows of each batch it has committed; ``publish`` only appends each record to
every sink's backlog and returns: it never waits, never raises, and a slow or failing sink delays nobody but
itself. Each sink has one owned worker task (``clearance.tasks.TaskSet``) that sends its records in order, in
batches of up to the sink's ``batch_size`` (a partial batch waits at most ``flush_interval`` seconds for more),
retrying a failed batch with exponential backoff and bounding every attempt by the sink's timeout. A backlog holds
at most ``backlog`` records: past that a new record is dropped for that sink and counted, so a sink that is down
costs bounded memory. ``close`` drains what is held for at most ``drain_timeout`` seconds, then stops the workers
and counts what was left as dropped.

A record is its row as JSON (``SinkRecord``): the row's ``id`` and its other columns as the audit tree's leaf
commits to them (``clearance.audit.leaf.leaf_fields``: nulls left out, UTC datetimes), so a receiver can recompute
a record's leaf hash. Rows are already redacted by the record mode: a sink never sees more than the database holds.
Every outcome (sent, retried, failed, dropped; counted in records) and every change of a backlog is reported to
the callbacks the owner passes (the application counts them in its metrics: this package sits below
observability). Logs name the sink, the record count and the error's kind; never a record's content.

Sleep is injected so tests retry without waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, Protocol

import orjson

from clearance.audit.leaf import leaf_fields
from clearance.audit.sink_config import SinkRetryConfig
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.audit.sinks")

Outcome = Literal["sent", "retried", "failed", "dropped"]
OnOutcome = Callable[[str, Outcome, int], None]
"""Told ``(sink, outcome, records)``: records sent, given up on or dropped, and records in an attempt retried."""
OnBacklog = Callable[[str, int], None]
"""Told ``(sink, records held: waiting or being sent)`` whenever that number changes."""


def ignore_outcome(_sink: str, _outcome: Outcome, _records: int) -> None:
    """An ``OnOutcome`` for an owner that counts nothing."""


def ignore_backlog(_sink: str, _depth: int) -> None:
    """An ``OnBacklog`` for an owner that watches nothing."""


@dataclass(frozen=True, slots=False)
class SinkRecord:
    """One written record as a sink sends it: ``fields`` is the row as JSON values, ``id`` first."""

    fields: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> SinkRecord:
        return cls({"id": row["id"], **leaf_fields(row)})

    @cached_property
    def line(self) -> bytes:
        """The record as one line of compact JSON (UTF-8, no newline): what a JSON lines sink writes."""
        return orjson.dumps(self.fields, option=orjson.OPT_SORT_KEYS)


class SinkFailed(Exception):
    """A sink could not deliver a batch. The message is safe to log: a sink name, a status or an error's kind,
    never a record's content or a secret. ``retry`` is false where trying again cannot help (the receiver refused
    the batch itself)."""

    def __init__(self, message: str, *, retry: bool = True) -> None:
        super().__init__(message)
        self.retry = retry


class Sink(Protocol):
    """Where records are streamed. ``send`` delivers a whole batch or raises (``SinkFailed`` or any error)."""

    @property
    def name(self) -> str: ...
    @property
    def batch_size(self) -> int: ...
    @property
    def flush_interval(self) -> float: ...
    @property
    def timeout(self) -> float: ...
    async def start(self) -> None: ...
    async def send(self, records: Sequence[SinkRecord]) -> None: ...
    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SinkCounts:
    """Records delivered, given up on, dropped (backlog full, dispatcher closed, drain out of time), and records in
    attempts retried."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    dropped: int = 0

    def __add__(self, other: SinkCounts) -> SinkCounts:
        return SinkCounts(
            self.sent + other.sent,
            self.retried + other.retried,
            self.failed + other.failed,
            self.dropped + other.dropped,
        )


@dataclass
class _Lane:
    """One sink's backlog and counters (owned by the dispatcher, never shared)."""

    sink: Sink
    backlog: deque[SinkRecord] = field(default_factory=deque)
    sending: int = 0
    """Records taken off the backlog and being sent."""
    counts: SinkCounts = SinkCounts()
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    idle: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def held(self) -> int:
        return len(self.backlog) + self.sending


class SinkDispatcher:
    """Streams written records to sinks; usable as ``async with`` (``start`` then ``close``)."""

    def __init__(
        self,
        sinks: Sequence[Sink],
        *,
        retry: SinkRetryConfig | None = None,
        backlog: int = 10_000,
        drain_timeout: float = 10.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        on_outcome: OnOutcome = ignore_outcome,
        on_backlog: OnBacklog = ignore_backlog,
    ) -> None:
        names = [s.name for s in sinks]
        if len(set(names)) != len(names):
            raise ValueError("sink names must be unique")
        self._lanes = [_Lane(sink) for sink in sinks]
        for lane in self._lanes:
            lane.idle.set()
        self._retry = retry or SinkRetryConfig()
        self._limit = backlog
        self._drain_timeout = drain_timeout
        self._sleep = sleep
        self._on_outcome = on_outcome
        self._on_backlog = on_backlog
        self._tasks = TaskSet()
        self._started = False
        self._closing = False
        self._closed = False

    def __bool__(self) -> bool:
        return bool(self._lanes)

    async def __aenter__(self) -> SinkDispatcher:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Start each sink (a sink that cannot start stops the gateway's start: its configuration is wrong) and one
        worker per sink. Records published before are kept and sent."""
        if self._started:
            return
        for lane in self._lanes:
            await lane.sink.start()
        self._started = True
        for lane in self._lanes:
            self._report(lane)
            _ = self._tasks.spawn(self._work(lane), name=f"audit-sink-{lane.sink.name}")

    def publish(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Queue the written ``rows`` (each with its ``id``) for every sink. Never blocks, never raises."""
        if not self._lanes or not rows:
            return
        try:
            records = [SinkRecord.from_row(row) for row in rows]
        except Exception as exc:  # a row the store wrote is always well formed; never fail the writer for a sink
            log.error("audit records not streamed", extra={"records": len(rows), "error": type(exc).__name__})
            return
        for lane in self._lanes:
            room = 0 if self._closed else max(0, self._limit - lane.held)
            taken = records[:room]
            if taken:
                lane.backlog.extend(taken)
                lane.idle.clear()
                lane.arrived.set()
                self._report(lane)
            left = len(records) - len(taken)
            if left:
                self._count(lane, "dropped", left)
                why = "dispatcher closed" if self._closed else "backlog full"
                log.error(f"audit records dropped: {why}", extra={"sink": lane.sink.name, "records": left})

    @property
    def counts(self) -> SinkCounts:
        total = SinkCounts()
        for lane in self._lanes:
            total += lane.counts
        return total

    @property
    def counts_by_sink(self) -> Mapping[str, SinkCounts]:
        return {lane.sink.name: lane.counts for lane in self._lanes}

    @property
    def backlog(self) -> Mapping[str, int]:
        """Records held per sink: waiting or being sent."""
        return {lane.sink.name: lane.held for lane in self._lanes}

    async def flush(self) -> None:
        """Wait until every sink has sent (or given up on) what it holds now. Only for tests and benchmarks:
        a sink that is down keeps this waiting."""
        for lane in self._lanes:
            await lane.idle.wait()

    async def close(self, timeout: float | None = None) -> None:
        """Stop taking records; wait up to ``timeout`` (``drain_timeout``) for the held ones (partial batches are
        sent at once); stop the workers and close the sinks."""
        self._closed = self._closing = True
        for lane in self._lanes:
            lane.arrived.set()  # a worker waiting to fill a batch sends it now
        if self._started:
            bound = self._drain_timeout if timeout is None else timeout
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(bound):
                    await self.flush()
        held = {lane.sink.name: lane.held for lane in self._lanes}  # before the workers stop: in flight included
        await self._tasks.cancel_all()
        for lane in self._lanes:
            left = held[lane.sink.name]
            lane.backlog.clear()
            lane.sending = 0
            lane.idle.set()
            self._report(lane)
            if left:
                self._count(lane, "dropped", left)
                log.error("audit records dropped at shutdown", extra={"sink": lane.sink.name, "records": left})
            if self._started:
                try:
                    await lane.sink.close()
                except Exception as exc:
                    log.error("audit sink did not close", extra={"sink": lane.sink.name, "error": type(exc).__name__})

    async def _work(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        sink = lane.sink
        while True:
            while not lane.backlog:
                lane.idle.set()
                lane.arrived.clear()
                await lane.arrived.wait()
            deadline = loop.time() + sink.flush_interval
            while len(lane.backlog) < sink.batch_size and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                lane.arrived.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await lane.arrived.wait()
            batch = [lane.backlog.popleft() for _ in range(min(sink.batch_size, len(lane.backlog)))]
            lane.sending = len(batch)
            try:
                await self._deliver(lane, batch)
            finally:
                lane.sending = 0
                self._report(lane)

    async def _deliver(self, lane: _Lane, batch: Sequence[SinkRecord]) -> None:
        attempts = self._retry.max_attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                async with asyncio.timeout(lane.sink.timeout):
                    await lane.sink.send(batch)
            except Exception as exc:  # a sink's bug must not stop its worker
                error = str(exc) if isinstance(exc, SinkFailed) else type(exc).__name__
                final = (isinstance(exc, SinkFailed) and not exc.retry) or attempt == attempts
                about = {"sink": lane.sink.name, "records": len(batch), "attempt": attempt, "error": error}
                if final:
                    self._count(lane, "failed", len(batch))
                    log.error("audit sink failed, giving up on the batch", extra=about)
                    return
                self._count(lane, "retried", len(batch))
                delay = self._retry.backoff(attempt)
                log.warning("audit sink failed, retrying", extra={**about, "delay": delay})
                await self._sleep(delay)
            else:
                self._count(lane, "sent", len(batch))
                return

    def _count(self, lane: _Lane, outcome: Outcome, records: int) -> None:
        lane.counts += SinkCounts(**{outcome: records})
        try:
            self._on_outcome(lane.sink.name, outcome, records)
        except Exception as exc:  # a metrics bug must not stop delivery
            log.error("audit sink outcome not reported", extra={"sink": lane.sink.name, "error": type(exc).__name__})

    def _report(self, lane: _Lane) -> None:
        try:
            self._on_backlog(lane.sink.name, lane.held)
        except Exception as exc:  # a metrics bug must not stop delivery
            log.error("audit sink backlog not reported", extra={"sink": lane.sink.name, "error": type(exc).__name__})
