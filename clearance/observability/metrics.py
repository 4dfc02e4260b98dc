"""Prometheus metrics, one registry per application (no module-level state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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

    def observe(self, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(endpoint, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
