"""Prometheus metrics, one registry per application (no module-level state).

Parts below this package (the audit store and its sinks, approval notifications) never import it: the application
passes them the methods here as callbacks. Every label value comes from the configuration or from a fixed set
(endpoints, decisions, statuses, entity types, upstream and model names routed by the configuration): never a
caller's text, so the number of series stays bounded (docs/observability.md lists every metric).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Literal

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from clearance.approvals.config import EVENT_KINDS, EventKind
from clearance.approvals.dispatch import Outcome
from clearance.audit.sinks import Outcome as SinkOutcome
from clearance.models import AuditRecord

log = logging.getLogger("clearance.metrics")

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
UNKNOWN = "unknown"
"""The model label of a request that was not routed (no model, or a name no route matched)."""
NONE = "none"
"""The decision and rule labels of a request refused before a decision (authentication, parsing, routing)."""
PENDING_APPROVALS = "clearance_approvals_pending"


class PendingApprovals(Collector):
    """``clearance_approvals_pending``, read from the approvals store at scrape time (one ``COUNT``).

    Read rather than kept: the store is shared by every instance (PostgreSQL), so a count kept in one process would
    miss approvals asked for or decided on another, and those that lapse. Every instance reports the same total:
    aggregate with ``max``, not ``sum``. A store that cannot be read leaves the gauge out of that scrape (the
    scrape itself still answers); the failure is logged by type."""

    def __init__(self, count: Callable[[], int]) -> None:
        self._count = count

    def describe(self) -> list[Metric]:  # known without a query: registering reads nothing
        return [GaugeMetricFamily(PENDING_APPROVALS, self._help)]

    _help = "Approvals pending (asked for, undecided and not lapsed) in the shared store."

    def collect(self) -> Iterator[Metric]:
        try:
            value = self._count()
        except Exception as exc:
            log.warning("counting pending approvals failed", extra={"error": type(exc).__name__})
            return
        yield GaugeMetricFamily(PENDING_APPROVALS, self._help, value=value)


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
        self.draining = Gauge(
            "clearance_draining",
            "1 while this instance drains after SIGTERM (readiness fails; requests in flight finish), else 0.",
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
        self.decisions = Counter(
            "clearance_decisions",
            "Model requests by endpoint, model (as routed; unknown when none matched), decision, rule and HTTP "
            "status; decision and rule are none for a request refused before a decision.",
            ["endpoint", "model", "decision", "rule", "status"],
            registry=self.registry,
        )
        self.findings = Counter(
            "clearance_findings",
            "Sensitive values found, by entity type and direction (request: in what the caller sent; response: in "
            "the answer).",
            ["type", "direction"],
            registry=self.registry,
        )
        self.tokens = Counter(
            "clearance_tokens",
            "Tokens the upstream reported using, by model and direction (in: prompt, out: completion).",
            ["model", "direction"],
            registry=self.registry,
        )
        self.first_byte = Histogram(
            "clearance_stream_first_byte_seconds",
            "Time from request received to the first bytes of a streamed answer, by endpoint.",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_headers = Histogram(
            "clearance_upstream_headers_seconds",
            "Time from sending a request upstream to its answer's headers, by upstream.",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.upstream_duration = Histogram(
            "clearance_upstream_duration_seconds",
            "Time from sending a request upstream to the end of its answer (a stream's last event), by upstream.",
            ["upstream"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "clearance_rate_limited",
            "Requests refused by a rate limit, by limit (requests_per_minute, tokens_per_minute, concurrent_streams) "
            "and scope (identity, model).",
            ["limit", "scope"],
            registry=self.registry,
        )
        self.rate_limiter_unavailable = Counter(
            "clearance_rate_limiter_unavailable",
            "Rate limit checks Redis failed or did not answer in time, by outcome: refused (fail closed), served "
            "(fail open), settled (an answer's tokens or stream lease not recorded).",
            ["outcome"],
            registry=self.registry,
        )
        self._children: dict[tuple[object, ...], Any] = {}
        """The children of the metrics fed per request, by metric and labels (``_child``)."""

    def _child(self, metric: Counter | Histogram, *labels: str) -> Any:
        """``metric.labels(*labels)``, kept: a dict lookup per request instead of ``labels()``' checks (a few
        microseconds each, several per request). The labels are bounded, and so is this dict."""
        key = (metric, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def watch_pending_approvals(self, count: Callable[[], int]) -> None:
        """Serve ``clearance_approvals_pending`` from ``count`` (a ``COUNT`` in the store), read at each scrape."""
        self.registry.register(PendingApprovals(count))

    def upstream_timing(self, upstream: str, headers: float, total: float | None) -> None:
        """One upstream exchange: seconds to its headers, and to its end (None: it failed before the end)
        (``UpstreamClient(on_timing=...)``)."""
        self._child(self.upstream_headers, upstream).observe(headers)
        if total is not None:
            self._child(self.upstream_duration, upstream).observe(total)

    def booked(self, record: AuditRecord) -> None:
        """What one request's record says, counted: its decision, findings, tokens and time to first byte."""
        model = record.policy_model or UNKNOWN
        decision = record.decision or NONE
        self._child(self.decisions, record.endpoint, model, decision, record.rule or NONE, str(record.status)).inc()
        for kind, count in record.findings.items():
            if count:
                self._child(self.findings, kind, "request").inc(count)
        for kind, count in record.masked_response.items():
            self._child(self.findings, kind, "response").inc(count)
        usage = record.usage
        if usage.prompt_tokens:
            self._child(self.tokens, model, "in").inc(usage.prompt_tokens)
        if usage.completion_tokens:
            self._child(self.tokens, model, "out").inc(usage.completion_tokens)
        if record.ttft_ms is not None:
            self._child(self.first_byte, record.endpoint).observe(record.ttft_ms / 1000.0)

    def rate_limit_refused(self, limit: str, scope: str) -> None:
        """One request refused by a rate limit (``RateLimiter(on_refused=...)``)."""
        self.rate_limited.labels(limit, scope).inc()

    def rate_limiter_down(self, outcome: str) -> None:
        """One check Redis failed (``RateLimiter(on_unavailable=...)``)."""
        self.rate_limiter_unavailable.labels(outcome).inc()

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
