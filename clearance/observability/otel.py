"""OpenTelemetry's tracer for the pipeline (the ``otel`` extra): a span per stage, children of one span per
request, exported over OTLP/HTTP in batches from a background thread.

Imported only by ``clearance.observability.tracing.build_tracer``, when the configuration has a ``telemetry``
section. Nothing here sets OpenTelemetry's globals (its tracer provider, its propagator): the gateway's spans come
from the provider built here, and an application embedding the gateway keeps its own.

A span's attributes are the stage's name and, on the request's span, the facts of its audit record that a log
line carries already (``recorded``). An exception marks a span failed with its type and, for a gateway error, its
code: never its message (a bug's message could quote a value), and no stack trace.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from clearance.config import TelemetryConfig
from clearance.exceptions import ClearanceError
from clearance.models import AuditRecord
from clearance.observability.tracing import Tracer

DEFAULT_SERVICE_NAME = "clearance"
INSTRUMENTATION = "clearance.pipeline"
FLUSH_TIMEOUT_MS = 10_000
TRACEPARENT = "traceparent"


def resource_for(config: TelemetryConfig) -> Resource:
    """``service.name`` from the configuration, else ``OTEL_SERVICE_NAME``, else ``clearance``; the other
    ``OTEL_RESOURCE_ATTRIBUTES`` as the environment sets them."""
    if config.service_name is not None:
        return Resource.create({"service.name": config.service_name})
    if os.environ.get("OTEL_SERVICE_NAME"):
        return Resource.create()
    return Resource.create({"service.name": DEFAULT_SERVICE_NAME})


def record_attributes(record: AuditRecord) -> dict[str, str | bool | int]:
    """The facts of ``record`` a span may carry: those a log line carries already, minus who asked."""
    attributes: dict[str, str | bool | int] = {
        "clearance.request_id": record.request_id,
        "clearance.endpoint": record.endpoint,
        "clearance.model": record.policy_model or "unknown",
        "clearance.stream": record.stream,
        "http.response.status_code": record.status,
    }
    optional: dict[str, str | None] = {
        "clearance.upstream": record.upstream,
        "clearance.decision": record.decision,
        "clearance.rule": record.rule,
        "clearance.level": record.level,
        "clearance.error_code": record.error_code,
    }
    attributes.update({key: value for key, value in optional.items() if value is not None})
    for kind, count in record.findings.items():
        attributes[f"clearance.findings.request.{kind}"] = count
    for kind, count in record.masked_response.items():
        attributes[f"clearance.findings.response.{kind}"] = count
    if record.usage.prompt_tokens is not None:
        attributes["gen_ai.usage.input_tokens"] = record.usage.prompt_tokens
    if record.usage.completion_tokens is not None:
        attributes["gen_ai.usage.output_tokens"] = record.usage.completion_tokens
    return attributes


def _trace_context(headers: Mapping[str, str]) -> dict[str, str]:
    """What of a caller's headers continues its trace: ``traceparent`` only. Its ``tracestate`` is free text (up
    to 512 characters) that would be carried on to the upstream and written in every span: a channel around
    inspection, so it is left behind."""
    traceparent = headers.get(TRACEPARENT)
    return {TRACEPARENT: traceparent} if traceparent is not None else {}


def _failed(span: Span, exc: BaseException) -> None:
    span.set_attribute("error.type", type(exc).__name__)
    if isinstance(exc, ClearanceError):
        span.set_attribute("clearance.error_code", exc.code)
    span.set_status(Status(StatusCode.ERROR))


class OtelTracer(Tracer):
    """Spans through OpenTelemetry's SDK, sent to ``config.otlp_endpoint`` (or where the environment says)."""

    def __init__(self, config: TelemetryConfig, *, exporter: OTLPSpanExporter | None = None) -> None:
        super().__init__()
        endpoint = str(config.otlp_endpoint) if config.otlp_endpoint is not None else None
        self._provider = TracerProvider(
            resource=resource_for(config), sampler=ParentBased(TraceIdRatioBased(config.sample_ratio))
        )
        self._provider.add_span_processor(BatchSpanProcessor(exporter or OTLPSpanExporter(endpoint=endpoint)))
        self._tracer = self._provider.get_tracer(INSTRUMENTATION)
        self._propagator = TraceContextTextMapPropagator()
        self._request_span: ContextVar[Span | None] = ContextVar("clearance_request_span", default=None)

    @contextmanager
    def _span(self, name: str, kind: SpanKind, headers: Mapping[str, str] | None = None) -> Iterator[Span]:
        parent = self._propagator.extract(_trace_context(headers)) if headers is not None else None
        with self._tracer.start_as_current_span(
            name, context=parent, kind=kind, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                yield span
            except BaseException as exc:
                _failed(span, exc)
                raise

    @contextmanager
    def _request(self, headers: Mapping[str, str], endpoint: str) -> Iterator[None]:
        with self._span("clearance.request", SpanKind.SERVER, headers) as span:
            span.set_attribute("clearance.endpoint", endpoint)
            token = self._request_span.set(span)
            try:
                yield
            finally:
                self._request_span.reset(token)

    def request(self, headers: Mapping[str, str], endpoint: str) -> AbstractContextManager[None]:
        return self._request(headers, endpoint)

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        kind = SpanKind.CLIENT if name == "upstream" else SpanKind.INTERNAL
        with self._span(f"clearance.{name}", kind):
            yield

    def stage(self, name: str) -> AbstractContextManager[None]:
        return self._stage(name)

    def propagate(self, headers: MutableMapping[str, str]) -> None:
        self._propagator.inject(headers)

    def recorded(self, record: AuditRecord) -> None:
        span = self._request_span.get()
        if span is None or not span.is_recording():
            return
        span.set_attributes(record_attributes(record))
        if record.status >= 500:
            span.set_status(Status(StatusCode.ERROR))

    def flush(self) -> None:
        self._provider.force_flush(FLUSH_TIMEOUT_MS)

    def close(self) -> None:
        self._provider.shutdown()
