"""Prometheus metrics, one registry per application (no module-level state).

Parts below this package (the audit store and its sinks, approval notifications) never import it: the application
passes them the methods here as callbacks."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any, Literal

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from clearance.approvals.config import EVENT_KINDS, EventKind
from clearance.approvals.dispatch import Outcome
from clearance.audit.sinks import Outcome as SinkOutcome

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
"""The directory several worker processes keep their values in (``clearance serve --workers``).

Their supervisor sets it before it starts them, so prometheus_client keeps every value in a file there, and
``GatewayMetrics.render`` adds up every worker's files: any worker's ``/metrics`` shows the whole gateway. Counters
and histograms add up by themselves; every gauge here is this module's ``Gauge``, which adds up the live workers'
values; a collector that reads its value at scrape time (no file) answers as in one process. A new metric needs
nothing more to work either way."""


LiveMode = Literal["livesum", "livemax", "livemin", "liveall", "livemostrecent"]
"""How a gauge combines workers: over the live ones only (a dead worker's value is gone with it)."""


class Gauge(prometheus_client.Gauge):
    """A gauge that, with several workers, shows the sum of the live workers' values (a queue's depth, streams in
    flight: the gateway's, not one worker's); in one process, an ordinary gauge."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Iterable[str] = (),
        *,
        multiprocess_mode: LiveMode = "livesum",
        **kwargs: Any,
    ) -> None:
        super().__init__(name, documentation, labelnames, multiprocess_mode=multiprocess_mode, **kwargs)


class GatewayMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.multiprocess_dir = os.environ.get(MULTIPROCESS_ENV) or None
        """Set (by the workers' supervisor) when this process is one of several: ``render`` reads every one's."""
        self.requests = Counter(
            "clearance_requests",
            "Requests handled, by endpoint and HTTP status.",
            ["endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "clearance_request_duration_seconds",
            "Time from request received to last byte sent, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "clearance_upstream_errors",
            "Upstream failures (unreachable, timeout, protocol, HTTP error status), by upstream and code.",
            ["upstream", "code"],
            registry=self.registry,
        )
        self.streams_in_flight = Gauge(
            "clearance_streams_in_flight",
            "Streamed responses being relayed right now.",
            registry=self.registry,
        )
        self.audit_queue = Gauge(
            "clearance_audit_queue_depth",
            "Audit records waiting to be written.",
            registry=self.registry,
        )
        self.audit_failures = Counter(
            "clearance_audit_write_failures",
            "Audit batches that could not be written (they are retried).",
            registry=self.registry,
        )
        self.approval_events = Counter(
            "clearance_approval_events",
            "Approval events published (requested, approved, denied, expired, cancelled, escalated, break_glass).",
            ["event"],
            registry=self.registry,
        )
        for kind in EVENT_KINDS:  # every kind shows from the start, at 0
            self.approval_events.labels(kind)
        self.approval_notifications = Counter(
            "clearance_approval_notifications",
            "Approval notifications by notifier, event and outcome: sent, failed (given up), retried (per attempt) "
            "and dropped (queue full, or left at shutdown).",
            ["notifier", "event", "outcome"],
            registry=self.registry,
        )
        self.approval_notifications_queued = Gauge(
            "clearance_approval_notifications_queued",
            "Approval events waiting for, or in, delivery, per notifier.",
            ["notifier"],
            registry=self.registry,
        )

        self.audit_sink_records = Counter(
            "clearance_audit_sink_records",
            "Audit records streamed to a sink, by sink and outcome: sent, failed (given up), retried (records in a "
            "failed attempt) and dropped (backlog full, or left at shutdown).",
            ["sink", "outcome"],
            registry=self.registry,
        )
        self.audit_sink_backlog = Gauge(
            "clearance_audit_sink_backlog",
            "Audit records waiting for, or in, delivery to a sink.",
            ["sink"],
            registry=self.registry,
        )

    def audit_sink_outcome(self, sink: str, outcome: SinkOutcome, records: int) -> None:
        """Records of one outcome at one sink (``SinkDispatcher(on_outcome=...)``)."""
        self.audit_sink_records.labels(sink, outcome).inc(records)

    def audit_sink_held(self, sink: str, depth: int) -> None:
        """A sink's backlog changed (``SinkDispatcher(on_backlog=...)``)."""
        self.audit_sink_backlog.labels(sink).set(depth)

    def approval_event(self, kind: EventKind) -> None:
        """One approval event published (``Notifications(on_event=...)``)."""
        self.approval_events.labels(kind).inc()

    def approval_notification(self, notifier: str, kind: EventKind, outcome: Outcome) -> None:
        """One outcome of one notifier's delivery (``Notifications(on_outcome=...)``)."""
        self.approval_notifications.labels(notifier, kind, outcome).inc()

    def approval_notifications_waiting(self, notifier: str, depth: int) -> None:
        """A notifier's queue changed (``Notifications(on_queue_depth=...)``)."""
        self.approval_notifications_queued.labels(notifier).set(depth)

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        """The exposition text: this process's metrics, or with several workers, all of theirs added up."""
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        combined = CollectorRegistry(auto_describe=False)
        combined.register(_WorkersSnapshot(self.registry, self.multiprocess_dir))
        return generate_latest(combined)


class _WorkersSnapshot:
    """Every metric as several workers see it: the counters, histograms and gauges that prometheus_client keeps in
    the workers' files, added up (``MultiProcessCollector``), then whatever else this process's registry has that is
    in no file: a collector that reads its value at scrape time (from a store the workers share) answers here as in
    one process."""

    def __init__(self, registry: CollectorRegistry, directory: str) -> None:
        self._registry = registry
        self._directory = directory

    def collect(self) -> Iterator[Metric]:
        summed = list(MultiProcessCollector(None, path=self._directory).collect())  # type: ignore[no-untyped-call]
        yield from summed
        kept = {family.name for family in summed}
        yield from (family for family in self._registry.collect() if family.name not in kept)
