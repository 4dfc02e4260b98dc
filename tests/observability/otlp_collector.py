"""A stand-in for an OpenTelemetry collector on loopback: it takes OTLP/HTTP protobuf on ``/v1/traces``, decodes
each export with OpenTelemetry's own protobuf classes (``opentelemetry-proto``, which comes with the exporter) and
keeps every span, and every export's raw bytes (to search for what must never be sent)."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

PROTOBUF = "application/x-protobuf"


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


@dataclass(frozen=True)
class ExportedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, object]
    failed: bool
    status_message: str
    service_name: object
    events: int


@dataclass
class Collector:
    url: str
    """The traces endpoint (``…/v1/traces``)."""
    spans: list[ExportedSpan] = field(default_factory=list)
    exports: list[bytes] = field(default_factory=list)
    """Each export as it arrived (decompressed), to search for values that must not be there."""
    decoded: list[str] = field(default_factory=list)
    """Each export decoded, in protobuf's text format (every string in it readable)."""

    def named(self, name: str) -> list[ExportedSpan]:
        return [span for span in self.spans if span.name == name]

    def one(self, name: str) -> ExportedSpan:
        [span] = self.named(name)
        return span


def _spans(message: ExportTraceServiceRequest) -> list[ExportedSpan]:
    out: list[ExportedSpan] = []
    for resource_spans in message.resource_spans:
        resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
        for scope in resource_spans.scope_spans:
            for span in scope.spans:
                out.append(
                    ExportedSpan(
                        name=span.name,
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        kind=span.kind,
                        attributes={a.key: _value(a.value) for a in span.attributes},
                        failed=span.status.code == Status.STATUS_CODE_ERROR,
                        status_message=span.status.message,
                        service_name=resource.get("service.name"),
                        events=len(span.events),
                    )
                )
    return out


@asynccontextmanager
async def otlp_collector() -> AsyncIterator[Collector]:
    collector = Collector(url="")

    async def traces(request: web.Request) -> web.Response:
        if request.content_type != PROTOBUF:
            return web.Response(status=415)
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        message = ExportTraceServiceRequest.FromString(body)
        collector.exports.append(body)
        collector.decoded.append(str(message))
        collector.spans.extend(_spans(message))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(), content_type=PROTOBUF)

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    collector.url = str(server.make_url("/v1/traces"))
    try:
        yield collector
    finally:
        await server.close()
