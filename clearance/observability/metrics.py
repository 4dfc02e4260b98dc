"""Prometheus metrics, one registry per application (no module-level state).

Parts below this package (the audit store and its sinks, approval notifications) never import it: the application
passes them the methods here as callbacks."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from clearance.approvals.config import EVENT_KINDS, EventKind
from clearance.approvals.dispatch import Outcome
from clearance.audit.sinks import Outcome as SinkOutcome

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class GatewayMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
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
        return generate_latest(self.registry)
