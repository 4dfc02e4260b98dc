"""What the pipeline's observability calls cost per request, in CPU: the tracer's stage marks (the no-op when no
``telemetry`` section is configured; OpenTelemetry's, spans kept in memory, when one is) and the metrics fed from
the audit record (``GatewayMetrics.booked``, ``upstream_timing``).

    .venv/bin/python -m bench.tracing [--requests N]

Compare the figures with a whole request's CPU (``bench.proxy``): the no-op path should be far below its noise.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass

from clearance.models import AuditRecord, Usage
from clearance.observability.metrics import GatewayMetrics
from clearance.observability.tracing import STAGES, Tracer

RECORD = AuditRecord(
    request_id="00000000-0000-4000-8000-000000000000",
    started_at=0.0,
    endpoint="chat.completions",
    method="POST",
    status=200,
    policy_model="bench-model",
    decision="mask",
    rule="default",
    findings={"CREDIT_CARD": 1},
    masked_response={"CREDIT_CARD": 1},
    usage=Usage(prompt_tokens=12, completion_tokens=40, total_tokens=52),
)
WHOLE = tuple(s for s in STAGES if s != "approval")


def traced_request(tracer: Tracer) -> Callable[[], None]:
    """One whole request's tracer calls, as the pipeline and the upstream client make them."""

    def request() -> None:
        headers: dict[str, str] = {}
        with tracer.request(headers, "chat.completions"):
            for stage in WHOLE:
                with tracer.stage(stage):
                    if stage == "upstream":
                        tracer.propagate(headers)
            tracer.recorded(RECORD)

    return request


def metrics_request(metrics: GatewayMetrics) -> Callable[[], None]:
    def request() -> None:
        metrics.upstream_timing("bench", 0.01, 0.02)
        metrics.booked(RECORD)

    return request


def per_call_us(call: Callable[[], None], n: int, repeat: int = 5) -> float:
    """The fastest of ``repeat`` runs of ``n`` calls, in microseconds per call (the least disturbed run)."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(n):
            call()
        best = min(best, time.perf_counter() - started)
    return best / n * 1e6


@dataclass(frozen=True)
class Figures:
    noop_tracer_us: float
    otel_tracer_us: float | None
    """None where the otel extra is not installed."""
    metrics_us: float


def measure(n: int) -> Figures:
    otel_us: float | None = None
    try:
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        from clearance.config import TelemetryConfig
        from clearance.observability.otel import OtelTracer
    except ImportError:
        pass
    else:
        exporter = InMemorySpanExporter()
        otel = OtelTracer(TelemetryConfig(), exporter=exporter)  # type: ignore[arg-type]
        try:
            otel_us = per_call_us(traced_request(otel), max(1, n // 10))
        finally:
            otel.close()
    return Figures(
        noop_tracer_us=per_call_us(traced_request(Tracer()), n),
        otel_tracer_us=otel_us,
        metrics_us=per_call_us(metrics_request(GatewayMetrics()), n),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000)
    figures = measure(parser.parse_args(argv).requests)
    print(f"no-op tracer, per request:          {figures.noop_tracer_us:8.2f} us")
    if figures.otel_tracer_us is not None:
        print(f"OpenTelemetry (in memory), per req: {figures.otel_tracer_us:8.2f} us")
    print(f"metrics fed per request:            {figures.metrics_us:8.2f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
