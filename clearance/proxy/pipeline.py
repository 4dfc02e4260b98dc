"""The request pipeline for model endpoints, top to bottom:

    authenticate -> read body -> parse JSON and walk it once (its leaves, its depth) -> validate -> route model
      -> inspect the leaves (detect, classify, decide, mask: ``clearance.enforce.inspector``)
      -> (require_approval) hold for approval, or release once with a grant (``clearance.proxy.approval_gate``);
         with ``X-Clearance-Wait``, hold the connection open until a decision (``clearance.proxy.waiting``)
      -> build upstream request -> send
      -> relay (whole or event by event; masked and restored; translated when flavours differ) -> record

Each stage hands the ``Exchange`` what it returned (identity, sizes, route, inspection, status, usage, error);
every request, whatever its outcome, ends with exactly one audit record (built once, frozen, by
``Exchange.finish``), one metrics observation and one log line. Each stage is marked on the pipeline's tracer
(``with self.tracer.stage(...)``: a span per stage with the ``otel`` extra and a ``telemetry`` section, a no-op
otherwise; ``clearance.observability.tracing``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from clearance.approvals.lifecycle import canonical_body_sha256, check_reason, lapsed
from clearance.audit.originals import Originals
from clearance.audit.store import AuditStore
from clearance.drain import was_cut
from clearance.endpoints import Endpoint
from clearance.enforce.inspector import Inspection, Inspector
from clearance.exceptions import (
    ApprovalNotFound,
    ApprovalPending,
    AuditUnavailable,
    ClearanceError,
    GatewayDraining,
    InspectionFailed,
    InternalError,
    InvalidRequest,
    RequestTimeout,
    UpstreamError,
    UpstreamProtocolError,
)
from clearance.limits.limiter import Admission, RateLimiter
from clearance.mask.events import OllamaLineMasker, OpenAiChunkMasker, ResponsesEventMasker, mask_answer
from clearance.mask.masker import Masker
from clearance.models import AuditRecord, Identity
from clearance.observability.metrics import GatewayMetrics
from clearance.observability.tracing import Tracer
from clearance.payload.extract import Walked
from clearance.proxy import ollama
from clearance.proxy.approval_gate import (
    APPROVAL_HEADER,
    BREAK_GLASS_HEADER,
    REASON_HEADER,
    WAIT_CAPPED_HEADER,
    WAIT_HEADER,
    ApprovalGate,
    wait_seconds,
)
from clearance.proxy.decisions import approval_required, denial
from clearance.proxy.errors import JSON_CONTENT_TYPE
from clearance.proxy.exchange import (
    UNKNOWN_MODEL,
    Exchange,
    Recording,
    default_instance,
    ollama_usage,
    recordable_label,
    usage_of,
)
from clearance.proxy.framing import ItemParser, NdjsonParser, SseParser
from clearance.proxy.json_codec import JsonCodec, JsonRefused, dumps
from clearance.proxy.request_body import content_coding, decode_body, parse_body, read_body
from clearance.proxy.routing import ModelRouter, Route
from clearance.proxy.schemas import validate_request
from clearance.proxy.streams import OllamaFromOpenAi, OllamaNdjson, OpenAiSse, StreamShape
from clearance.proxy.upstream import UpstreamClient, body_is_decoded, check_status, map_client_error
from clearance.proxy.upstream_errors import error_answer
from clearance.proxy.waiting import KeepAlive

log = logging.getLogger("clearance.access")

RECORD_HEADER = "X-Clearance-Record"
"""The caller's receipt of a durable record: its spool key and leaf hash (docs/audit.md, "Never lose a record")."""

Authenticate = Callable[[web.Request], Awaitable[Identity]]

_STREAM_TYPES = {True: ("text/event-stream",), False: ("application/x-ndjson", "application/jsonl")}
"""What an upstream's stream may be labelled, by whether it speaks OpenAI (SSE) or Ollama (NDJSON)."""


def declared_label(request: web.Request, body: dict[str, Any]) -> str | None:
    """The caller's declared classification: ``X-Data-Classification``, else ``metadata.classification``."""
    header = request.headers.get("X-Data-Classification")
    if header:
        return header.strip().lower()
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and "classification" in metadata:
        label = metadata["classification"]
        if not isinstance(label, str):
            raise InvalidRequest("metadata.classification must be a string", param="metadata.classification")
        return label.strip().lower()
    return None


def mask_whole(masker: Masker, data: dict[str, Any]) -> dict[str, Any]:
    """A complete answer on its way out: every text masked (and restored where allowed), logprobs dropped."""
    try:
        masked: dict[str, Any] = mask_answer(masker, data)
    except ClearanceError:
        raise
    except Exception as exc:
        log.error("response inspection failed", extra={"error": type(exc).__name__})
        raise InspectionFailed("the gateway could not inspect the answer, so it was not returned") from None
    return masked


class ModelPipeline:
    """Handles every model endpoint. Built once per application with its collaborators."""

    def __init__(
        self,
        *,
        router: ModelRouter,
        upstreams: UpstreamClient,
        audit: AuditStore,
        metrics: GatewayMetrics,
        max_body_bytes: int,
        authenticate: Authenticate,
        inspector: Inspector,
        max_json_depth: int = 64,
        body_timeout: float = 60.0,
        known_label: Callable[[str], bool] = lambda _label: False,
        approvals: ApprovalGate | None = None,
        instance: str | None = None,
        max_text_bytes: int = 1024 * 1024,
        originals: Originals | None = None,
        tracer: Tracer | None = None,
        limits: RateLimiter | None = None,
    ) -> None:
        """``known_label``: whether a declared label is a level of the data policy (only those are recorded).
        ``approvals``: where ``require_approval`` requests are held (None: they are refused, and none is held).
        ``instance``: this gateway's name in records (None: host:pid); ``max_text_bytes``: the most bytes of the
        request and of the answer a record keeps (``audit.max_text_bytes``); ``originals``: where the originals are
        sealed (``audit.originals``; None: never kept); ``tracer``: where each stage is marked
        (``clearance.observability.tracing``; None: nowhere, at no cost); ``limits``: the rate limits (None: none)."""
        self.router = router
        self.upstreams = upstreams
        self.audit = audit
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.authenticate = authenticate
        self.inspector = inspector
        self.codec = JsonCodec(max_json_depth)
        self.body_timeout = body_timeout
        self.known_label = known_label
        self.approvals = approvals
        self.tracer = tracer or Tracer()
        self.limits = limits
        self.recording = Recording(
            instance=instance or default_instance(),
            detector_version=inspector.detector_version or None,
            max_text_bytes=max_text_bytes,
            redact=inspector.redact,
            redact_document=inspector.redact_document,
            redact_answer=inspector.redact_answer,
            originals=originals,
        )

    def exchange(self, request: web.Request, endpoint: str) -> Exchange:
        """A new exchange for ``request``; its id is the caller's only if it passes ``request_id_for``."""
        return Exchange(request, endpoint, self.inspector.safe_scan, self.recording)

    def handler(self, endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self.handle(request, endpoint)

        return handle

    async def handle(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        with self.tracer.request(request.headers, endpoint.name):
            return await self._handle(request, endpoint)

    async def _handle(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        exchange = self.exchange(request, endpoint.name)
        try:
            response = await self._answer(request, endpoint, exchange)
        except BaseException:
            if not exchange.recorded:
                self.finish(exchange)
            raise
        if exchange.recorded:  # a stream, recorded before its end went out
            return response
        if exchange.headers_sent:  # a stream that ended early (its caller left): nothing more is sent
            self.finish(exchange)
            return response
        try:  # a whole answer: its body goes out once its record is durable
            with self.tracer.stage("record"):
                receipt = await self.audit.record_durably(self.book(exchange))
        except AuditUnavailable as error:  # the answer is withheld: it could not be recorded
            return exchange.refuse(error)
        if receipt is not None:
            response.headers[RECORD_HEADER] = receipt.header()
        return response

    async def _answer(self, request: web.Request, endpoint: Endpoint, exchange: Exchange) -> web.StreamResponse:
        held: KeepAlive | None = None
        admission: Admission | None = None
        try:
            with self.tracer.stage("authenticate"):
                exchange.identify(await self.authenticate(request))
            walked = await self._read_json(request, exchange)
            with self.tracer.stage("validate"):
                asked = validate_request(endpoint, walked.body)
            stream = (endpoint.stream_default if asked.stream is None else asked.stream) and endpoint.streamable
            with self.tracer.stage("route"):
                route = await self._route(exchange, asked.model, stream)
            caller = exchange.identity or Identity.anonymous()
            if self.limits is not None and (quotas := self.limits.quotas(caller, route.public_name)):
                with self.tracer.stage("limits"):  # counted before any inspection; settled when the answer ends
                    admission = await self.limits.admit(caller, route.public_name, stream, quotas=quotas)
                exchange.headers.update(admission.headers)
            with self.tracer.stage("inspect"):
                inspection = self._inspect(request, exchange, endpoint, route, walked)
            if inspection.decision.action == "require_approval":
                assert self.approvals is not None
                held = KeepAlive(
                    request,
                    exchange,
                    interval=self.approvals.settings.keepalive_interval,
                    comments=stream and endpoint.flavour == "openai",
                )
                with self.tracer.stage("approval"):
                    inspection = await self._hold_or_release(request, exchange, endpoint, walked, inspection, held)
                exchange.released(inspection)
            return await self._forward(
                request, exchange, endpoint, route, inspection, stream, held.response if held else None, admission
            )
        except ClearanceError as error:
            if held is not None and held.response is not None:  # a waiting stream's headers went out already
                return await held.fail(error)
            response = exchange.refuse(error)
            if isinstance(error, RequestTimeout):
                response.force_close()  # what is left of a slow body is not waited for
            return response
        except asyncio.CancelledError:
            if was_cut(request):  # still running at the drain's deadline (docs/scaling.md)
                exchange.fail(GatewayDraining("the gateway stopped before this answer ended", code="drain_deadline"))
            else:
                exchange.disconnected()
            raise
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            # a waiting stream's caller went away; its approval stays pending
            exchange.disconnected()
            assert held is not None and held.response is not None
            return held.response
        except Exception as exc:  # a bug: the caller gets a 500 in the usual shape, the record says so
            log.error("request failed", extra={"request_id": exchange.request_id, "error": type(exc).__name__})
            failure = InternalError(
                "the gateway failed while handling this request; nothing more was sent. Report it with the request id"
            )
            if exchange.headers_sent:
                exchange.fail(failure)
                raise
            return exchange.refuse(failure)
        finally:
            if admission is not None:
                admission.settle(exchange.usage)

    async def _route(self, exchange: Exchange, model: str, stream: bool) -> Route:
        """The route for ``model``. Only a name that matched a route is recorded: others are caller text."""
        exchange.routed(UNKNOWN_MODEL)
        route = await self.router.resolve(model)
        exchange.routed(model, route.upstream.name, stream=stream, public=route.public_name)
        return route

    def _inspect(
        self, request: web.Request, exchange: Exchange, endpoint: Endpoint, route: Route, walked: Walked
    ) -> Inspection:
        body: dict[str, Any] = walked.body
        declared = declared_label(request, body)
        exchange.declared(recordable_label(declared, self.known_label))
        inspection = self.inspector.inspect(
            endpoint,
            body,
            identity=exchange.identity or Identity.anonymous(),
            model=route.public_name,
            upstream=route.upstream.name,
            declared=declared,
            walked=walked,
        )
        exchange.decide(inspection)
        if not self.audit.accepting(inspection.decision.level):
            raise AuditUnavailable(
                "the audit store is down and its spool is full, so this request cannot be recorded; "
                "retry once /readyz answers 200"
            )
        if inspection.decision.action == "block" or (
            inspection.decision.action == "require_approval" and self.approvals is None
        ):
            raise denial(inspection.decision)
        return inspection

    async def _hold_or_release(
        self,
        request: web.Request,
        exchange: Exchange,
        endpoint: Endpoint,
        walked: Walked,
        inspection: Inspection,
        held: KeepAlive,
    ) -> Inspection:
        """A ``require_approval`` decision: without a grant, ask for approval and refuse (403
        ``approval_required``); with ``X-Clearance-Approval``, use the grant and release the request masked under
        the rule's decision (``Inspector.release``). With ``X-Clearance-Wait``, a pending approval (asked for now,
        or presented) is waited for first, and its grant used as soon as it is approved. Either way the record
        carries the approval's id."""
        if BREAK_GLASS_HEADER in request.headers:
            return await self._break_glass(request, exchange, endpoint, walked, inspection)
        gate = self.approvals
        assert gate is not None
        decision = inspection.decision
        identity = exchange.identity or Identity.anonymous()
        body_sha256 = canonical_body_sha256(walked.body)
        waiting = wait_seconds(request.headers.get(WAIT_HEADER), gate.settings)
        if waiting is not None and waiting[1]:
            exchange.headers[WAIT_CAPPED_HEADER] = f"{waiting[0]:g}"
        base_url = gate.settings.base_url(str(request.url.origin()))
        presented = request.headers.get(APPROVAL_HEADER)
        if presented is None:
            reason = check_reason(request.headers.get(REASON_HEADER, ""), required=False, who="requester")
            approval = await gate.ask(
                identity=identity,
                model=exchange.model or UNKNOWN_MODEL,
                endpoint=endpoint.name,
                decision=decision,
                preview=dumps(self.inspector.preview(inspection)).decode(),
                body_sha256=body_sha256,
                reason=self.inspector.redact(reason) if reason else "",
                released_as=self.inspector.released_as(inspection),
            )
            exchange.approval(approval.id)
            if waiting is None:
                raise approval_required(decision, approval, base_url)
            with gate.waiting_slot(identity):
                approval = await held.hold(gate.wait(approval.id, waiting[0]), approval.id)
            if approval.state == "pending" and not lapsed(approval, gate.clock()):
                raise approval_required(decision, approval, base_url)
            presented = approval.id
        presented = presented.strip()
        try:
            try:
                await gate.spend(
                    presented, identity, body_sha256=body_sha256, endpoint=endpoint.name, decision=decision
                )
            except ApprovalPending:
                if waiting is None:
                    raise
                exchange.approval(presented)
                with gate.waiting_slot(identity):
                    approval = await held.hold(gate.wait(presented, waiting[0]), presented)
                if approval.state == "pending" and not lapsed(approval, gate.clock()):
                    raise
                await gate.spend(
                    presented, identity, body_sha256=body_sha256, endpoint=endpoint.name, decision=decision
                )
        except ApprovalNotFound:
            raise  # not an id the gateway issued: caller text, never recorded
        except ClearanceError:
            exchange.approval(presented)
            raise
        exchange.approval(presented)
        return self.inspector.release(inspection)

    async def _break_glass(
        self, request: web.Request, exchange: Exchange, endpoint: Endpoint, walked: Walked, inspection: Inspection
    ) -> Inspection:
        """A ``require_approval`` decision with ``X-Clearance-Break-Glass``: the requester grants their own request
        (``ApprovalGate.break_glass``: only as the rule allows, with a reason, redacted like
        ``X-Clearance-Reason``), which is released at once as under a grant. The record carries the approval's id."""
        gate = self.approvals
        assert gate is not None
        header = request.headers[BREAK_GLASS_HEADER]
        stated = check_reason(header, required=False, who="requester", param=BREAK_GLASS_HEADER)
        approval = await gate.break_glass(
            identity=exchange.identity or Identity.anonymous(),
            model=exchange.model or UNKNOWN_MODEL,
            endpoint=endpoint.name,
            decision=inspection.decision,
            preview=dumps(self.inspector.preview(inspection)).decode(),
            body_sha256=canonical_body_sha256(walked.body),
            reason=self.inspector.redact(stated) if stated else "",
            released_as=self.inspector.released_as(inspection),
        )
        exchange.approval(approval.id)
        return self.inspector.release(inspection)

    def finish(self, exchange: Exchange) -> None:
        """Close a request's books without waiting for its record to be durable (its answer is not whole)."""
        self.audit.record(self.book(exchange))

    def book(self, exchange: Exchange) -> AuditRecord:
        """Close a request's books: its audit record (returned, to be recorded), a metrics observation, a log line."""
        record = exchange.finish()
        exchange.recorded = True
        self.metrics.observe(record.endpoint, record.status, record.latency_ms / 1000.0)
        self.metrics.booked(record)
        self.tracer.recorded(record)
        log.info(
            "request",
            extra={
                "request_id": record.request_id,
                "endpoint": record.endpoint,
                "model": record.model,
                "upstream": record.upstream,
                "status": record.status,
                "error_code": record.error_code,
                "stream": record.stream,
                "latency_ms": round(record.latency_ms, 2),
                "bytes_in": record.bytes_in,
                "bytes_out": record.bytes_out,
                "subject": record.subject,
                "decision": record.decision,
                "rule": record.rule,
                "findings": record.findings or None,
            },
        )
        return record

    async def _read_json(self, request: web.Request, exchange: Exchange) -> Walked:
        """The request body as JSON, walked once (``clearance.proxy.request_body``: encoding, time, size and depth
        limits)."""
        with self.tracer.stage("read_body"):
            coding = content_coding(request.headers)
            exchange.received(request.content_length or 0)
            raw = await read_body(request, max_bytes=self.max_body_bytes, timeout=self.body_timeout)
            exchange.received(len(raw))
            decoded = decode_body(raw, coding, self.max_body_bytes)
        exchange.body(decoded)  # the original request, sealed where the record mode keeps originals
        with self.tracer.stage("parse"):
            return parse_body(decoded, self.codec)

    # -- upstream ------------------------------------------------------------------------------------------

    def _upstream_request(
        self, endpoint: Endpoint, route: Route, body: dict[str, Any], stream: bool
    ) -> tuple[str, dict[str, Any], bool]:
        """The URL and body to send, and whether the upstream will answer in OpenAI shapes."""
        up = route.upstream
        if endpoint.flavour == "ollama" and up.kind == "openai":
            target, translated = ollama.to_openai_request(endpoint, body, route.model.target, stream)
            return up.root + target.upstream_path, translated, True
        outgoing = {**body, "model": route.model.target}
        if endpoint.flavour == "ollama":
            outgoing["stream"] = stream
            return up.root + endpoint.upstream_path, outgoing, False
        prefix = "/v1" if up.kind == "ollama" else ""
        return up.root + prefix + endpoint.upstream_path, outgoing, True

    async def _forward(
        self,
        request: web.Request,
        exchange: Exchange,
        endpoint: Endpoint,
        route: Route,
        inspection: Inspection,
        stream: bool,
        started: web.StreamResponse | None = None,
        admission: Admission | None = None,
    ) -> web.StreamResponse:
        """``started``: the stream response already committed to a caller that waited for approval; ``admission``:
        the request's rate limits. When they charge its tokens, a stream that did not ask for its usage is made to
        report it (``_asks_usage``; kept from the caller), and its events are counted in case it reports none."""
        url, outgoing, openai_shaped = self._upstream_request(endpoint, route, inspection.body, stream)
        hide_usage = admission is not None and admission.counts_tokens and stream and _asks_usage(endpoint, outgoing)
        exchange.forwarded(outgoing)
        masker = inspection.masker
        up = route.upstream
        try:
            async with self.upstreams.post(up, url, dumps(outgoing), exchange.request_id) as upstream:
                check_status(up, upstream)
                if upstream.status >= 400 and started is not None:
                    raise UpstreamError(
                        f"upstream {up.name!r} answered HTTP {upstream.status}", code=f"upstream_http_{upstream.status}"
                    )
                if upstream.status >= 400:
                    with self.tracer.stage("relay"):
                        return await self._relay_error(exchange, route, upstream, masker)
                if not body_is_decoded(upstream):
                    raise UpstreamProtocolError(
                        f"upstream {up.name!r} answered in a Content-Encoding the gateway cannot read"
                    )
                if not stream:
                    with self.tracer.stage("relay"):
                        return await self._relay_whole(exchange, endpoint, route, upstream, masker, openai_shaped)
                if upstream.content_type not in _STREAM_TYPES[openai_shaped]:
                    raise UpstreamProtocolError(
                        f"upstream {up.name!r} answered a streaming request with something that is not a stream "
                        f"({upstream.content_type or 'no content type'})"
                    )
                shape = self._stream_shape(exchange, endpoint, masker, openai_shaped, hide_usage)
                with self.tracer.stage("relay"):
                    return await self._relay_stream(
                        request, exchange, route, upstream, shape, openai_shaped, started, admission
                    )
        except ClearanceError as error:
            self.metrics.upstream_errors.labels(up.name, error.code).inc()
            raise

    async def _relay_error(
        self, exchange: Exchange, route: Route, upstream: aiohttp.ClientResponse, masker: Masker
    ) -> web.Response:
        """Upstream 4xx/5xx: the status kept, the body and headers inspected and masked (``upstream_errors``)."""
        answer = await error_answer(route.upstream.name, upstream, masker, self.codec)
        self.metrics.upstream_errors.labels(route.upstream.name, f"http_{answer.status}").inc()
        response = web.Response(
            body=answer.body, status=answer.status, headers={**answer.headers, "Content-Type": answer.content_type}
        )
        return exchange.respond(response, error_code=f"upstream_http_{answer.status}")

    async def _relay_whole(
        self,
        exchange: Exchange,
        endpoint: Endpoint,
        route: Route,
        upstream: aiohttp.ClientResponse,
        masker: Masker,
        openai_shaped: bool,
    ) -> web.Response:
        try:
            raw = await upstream.read()
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise map_client_error(route.upstream, exc) from None
        try:
            data = self.codec.loads(raw)
        except JsonRefused as refused:
            what = "JSON nested too deeply" if refused.reason == "too_deep" else "something that is not JSON"
            raise UpstreamProtocolError(f"upstream {route.upstream.name!r} answered with {what}") from None
        if not isinstance(data, dict):
            raise UpstreamProtocolError(f"upstream {route.upstream.name!r} answered with a non-object")
        exchange.used(usage_of(data.get("usage")) if openai_shaped else ollama_usage(data))
        exchange.answered(data)  # before masking and restoring: the record redacts every value itself
        data = mask_whole(masker, data)
        raw = dumps(data)
        if endpoint.flavour == "ollama" and openai_shaped:
            raw = dumps(ollama.to_ollama_response(endpoint, data, exchange.model or "", time.monotonic()))
        return exchange.respond(web.Response(body=raw, status=upstream.status, content_type=JSON_CONTENT_TYPE))

    @staticmethod
    def _stream_shape(
        exchange: Exchange, endpoint: Endpoint, masker: Masker, openai_shaped: bool, hide_usage: bool = False
    ) -> StreamShape:
        transcript = exchange.transcript()
        if endpoint.flavour == "openai":
            if endpoint.operation == "response":
                return OpenAiSse(ResponsesEventMasker(masker), transcript)
            return OpenAiSse(OpenAiChunkMasker(masker), transcript, hide_usage=hide_usage)
        if openai_shaped:
            translator = ollama.OllamaStreamTranslator(endpoint, exchange.model or "", time.monotonic())
            return OllamaFromOpenAi(translator, OpenAiChunkMasker(masker), transcript)
        return OllamaNdjson(OllamaLineMasker(masker), transcript)

    async def _relay_stream(
        self,
        request: web.Request,
        exchange: Exchange,
        route: Route,
        upstream: aiohttp.ClientResponse,
        shape: StreamShape,
        openai_shaped: bool,
        started: web.StreamResponse | None = None,
        admission: Admission | None = None,
    ) -> web.StreamResponse:
        if started is None:
            response = web.StreamResponse(
                status=upstream.status,
                headers={"Content-Type": shape.content_type, "Cache-Control": "no-cache", **exchange.headers},
            )
            await response.prepare(request)
            exchange.started(upstream.status)
        else:  # the caller waited for approval on this response, and got SSE comments meanwhile
            response = started
        self.metrics.streams_in_flight.inc()
        sent = 0
        parser: ItemParser = SseParser() if openai_shaped else NdjsonParser()
        # What one upstream read completes goes out in one write: a write per event would cost a send system
        # call per event (most of a stream's CPU), and sending everything in hand at once holds nothing back.
        pending: list[bytes] = []
        items = 0
        try:
            try:
                async for chunk in upstream.content.iter_any():
                    for item in parser.feed(chunk):
                        items += 1
                        pending.append(shape.item(item))
                    sent += await _write_pending(response, pending)
                    if sent:
                        exchange.first_byte()
                for item in parser.close():
                    items += 1
                    pending.append(shape.item(item))
                if not items:
                    raise UpstreamProtocolError(f"upstream {route.upstream.name!r} ended its stream without any event")
                pending.append(shape.end())
            except (TimeoutError, aiohttp.ClientError) as exc:
                error: ClearanceError = map_client_error(route.upstream, exc)
                self.metrics.upstream_errors.labels(route.upstream.name, error.code).inc()
                exchange.fail(error)
                pending.append(shape.error(error))
            except ClearanceError as error:
                exchange.fail(error)
                pending.append(shape.error(error))
            except Exception as exc:  # a masking or parsing bug: end the stream, never forward raw text
                log.error("stream inspection failed", extra={"error": type(exc).__name__})
                failed = InspectionFailed("the gateway could not inspect the rest of this answer; it was cut off")
                exchange.fail(failed)
                pending.append(shape.error(failed))
            if pending:
                exchange.first_byte()
            await self._record_before_end(exchange, shape, sent, pending)
            sent += await _write_pending(response, pending)
            await response.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            exchange.disconnected()
        finally:
            self.metrics.streams_in_flight.dec()
            exchange.used(shape.usage)
            exchange.sent(sent)
            if admission is not None:
                admission.events = items
        return response

    async def _record_before_end(self, exchange: Exchange, shape: StreamShape, sent: int, pending: list[bytes]) -> None:
        """Make the stream's record durable before its last bytes go out: a caller who received the whole answer
        knows it is recorded. Refused (the store down, the spool full): the end becomes an error event."""
        exchange.used(shape.usage)
        exchange.sent(sent + sum(len(piece) for piece in pending))
        try:
            with self.tracer.stage("record"):
                receipt = await self.audit.record_durably(self.book(exchange))
        except AuditUnavailable as error:
            pending[:] = [shape.error(error)]
            return
        if receipt is not None and pending and shape.content_type == "text/event-stream":
            # the caller's receipt, as an SSE comment (clients skip comments) just before the end
            pending.insert(len(pending) - 1, f": {RECORD_HEADER}: {receipt.header()}\n\n".encode())


def _asks_usage(endpoint: Endpoint, outgoing: dict[str, Any]) -> bool:
    """Make an OpenAI chat or completion stream report its usage (``stream_options.include_usage``) when its caller
    did not ask for it; True if so: the caller is then kept from the usage it did not ask for."""
    if endpoint.flavour != "openai" or endpoint.operation not in ("chat", "completion"):
        return False  # the Responses API reports usage by itself; Ollama's translation asks for it already
    options = outgoing.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage") is True:
        return False
    outgoing["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    return True


async def _write_pending(response: web.StreamResponse, pending: list[bytes]) -> int:
    """Send the pending pieces as one write and empty the list; returns the number of bytes sent."""
    out = b"".join(pending)
    pending.clear()
    if out:
        await response.write(out)
    return len(out)
