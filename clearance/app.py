"""The application factory: ``create_app(config)`` wires the pipeline's parts; nothing lives at module level.

Routes: the model endpoints (``clearance.endpoints``), the model listings, health, readiness, metrics and the admin
API's approvals, audit records, policy, API keys and figures (``clearance.admin``), and the web console under
``/console``
(``clearance.console``). Every other
path gets 404 (405 for a known path with the wrong method) in the OpenAI error format: nothing reaches an upstream
except through the pipeline. An unexpected failure anywhere is a 500 ``internal_error`` in that format too.

``/metrics`` and the details of ``/readyz`` are for loopback and authenticated callers unless
``server.metrics_public`` (``clearance.observability.exposure``). Serve the app with
``clearance.server.runner_options``: the pipeline expects request bodies as sent (it decodes them itself).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from clearance.admin.approvals import APPROVALS_API, ApprovalsApi
from clearance.admin.keys import KEYS_API, KeysApi
from clearance.admin.policy import POLICY_API, PolicyApi
from clearance.admin.records import RECORDS_API, RecordsApi
from clearance.admin.reveal import REVEAL_API, RevealApi
from clearance.admin.stats import STATS_API, StatsApi
from clearance.approvals.notifiers import Notifications
from clearance.approvals.signals import ApprovalSignals, PostgresListener
from clearance.approvals.store import ApprovalStore
from clearance.approvals.sweeper import ExpirySweeper
from clearance.audit.originals import Originals
from clearance.audit.policy_versions import PolicyVersionStore, VersionLoad, VersionRecorder
from clearance.audit.sink_build import build_dispatcher
from clearance.audit.sinks import SinkDispatcher
from clearance.audit.store import AuditStore, SqlAuditStore
from clearance.audit.verify import RecordVerifier
from clearance.auth.authenticator import build_authenticator
from clearance.config import GatewayConfig, unserved_limits
from clearance.console.app import install_console
from clearance.db.engine import make_engine
from clearance.detect import Scanner
from clearance.drain import Drain
from clearance.endpoints import MODEL_ENDPOINTS
from clearance.enforce.inspector import build_inspector
from clearance.exceptions import (
    ClearanceError,
    ConfigError,
    InternalError,
    MethodNotAllowed,
    PermissionDenied,
    UnknownRoute,
)
from clearance.limits.limiter import Clock as LimitsClock
from clearance.limits.limiter import RateLimiter
from clearance.models import Identity
from clearance.observability.exposure import may_see_details
from clearance.observability.metrics import GatewayMetrics
from clearance.observability.tracing import Tracer, build_tracer
from clearance.policy import PolicyHolder
from clearance.policy.holder import LoadedVersion
from clearance.proxy import ollama
from clearance.proxy.approval_gate import ApprovalGate, Clock
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response
from clearance.proxy.exchange import default_instance
from clearance.proxy.pipeline import ModelPipeline
from clearance.proxy.routing import ModelRouter
from clearance.proxy.upstream import UpstreamClient
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.app")

CONFIG = web.AppKey("config", GatewayConfig)
PIPELINE = web.AppKey("pipeline", ModelPipeline)
METRICS = web.AppKey("metrics", GatewayMetrics)
AUDIT = web.AppKey("audit", AuditStore)
AUDIT_SINKS = web.AppKey("audit_sinks", SinkDispatcher)
UPSTREAMS = web.AppKey("upstreams", UpstreamClient)
ROUTER = web.AppKey("router", ModelRouter)
POLICY = web.AppKey("policy", PolicyHolder)
APPROVALS = web.AppKey("approvals", ApprovalStore)
NOTIFICATIONS = web.AppKey("notifications", Notifications)
SIGNALS = web.AppKey("signals", ApprovalSignals)
POLICY_VERSIONS = web.AppKey("policy_versions", PolicyVersionStore)
DRAIN = web.AppKey("drain", Drain)
TRACER = web.AppKey("tracer", Tracer)
LIMITER = web.AppKey("limiter", RateLimiter)
LISTENER_READY_TIMEOUT = 10.0
"""Seconds start-up waits for the approval listener's ``LISTEN`` (PostgreSQL) before it goes on without it (it
keeps trying; waiters read the store every ``poll_interval`` meanwhile)."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_INTERNAL_MESSAGE = "the gateway failed while handling this request; report it with the X-Request-ID"

_KNOWN_PATHS = {e.path for e in MODEL_ENDPOINTS} | {"/v1/models", "/api/tags"}


@web.middleware
async def _internal_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The last line: a bug in any handler is a 500 in the OpenAI format, without the exception's text."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as exc:
        log.error("handler failed", extra={"path": request.path, "error": type(exc).__name__})
        return error_response(InternalError(_INTERNAL_MESSAGE))


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=JSON_CONTENT_TYPE)


def _history_entry(loaded: LoadedVersion) -> VersionLoad:
    policy = loaded.policy
    return VersionLoad(policy.digest, policy.text, loaded.source, loaded.loaded_at)


def create_app(
    config: GatewayConfig,
    *,
    audit: AuditStore | None = None,
    clock: Clock = time.time,
    limits_clock: LimitsClock | None = None,
) -> web.Application:
    """Build the gateway. ``audit`` defaults to the SQL store in the gateway's database (``config.database.url``),
    where approvals are kept too. ``clock`` tells approvals the time (tests move it to expire them);
    ``limits_clock`` the rate limits (None: Redis's own clock, shared by every instance)."""
    app = web.Application(client_max_size=config.server.max_body_bytes, middlewares=[_internal_errors])
    authenticator = build_authenticator(config.auth, default_keys_url=config.database.url)
    # One classification scheme: the policy's levels, with those the detection configuration declares for the types
    # it does not list. The scanner prefers the more sensitive of overlapping findings by the scheme at start.
    policy = PolicyHolder.from_settings(config.policy, declared=config.detection.declared_levels())
    scanner = Scanner.from_config(config, levels=policy.policy.scheme)
    inspector = build_inspector(config, scanner, classify=policy.classify, decide=policy.decide)

    async def authenticate(request: web.Request) -> Identity:
        headers = request.headers
        return await authenticator.authenticate(headers.get("Authorization"), request.remote, host=headers.get("Host"))

    metrics = GatewayMetrics()
    tracer = build_tracer(config.telemetry)  # the no-op without a telemetry section: OpenTelemetry is not loaded
    originals = Originals.from_config(config.audit.originals) if config.audit.originals is not None else None
    upstreams = UpstreamClient(config.upstreams, tracer=tracer, on_timing=metrics.upstream_timing)
    router = ModelRouter(config.upstreams, upstreams.discover_models)
    sinks = build_dispatcher(
        config.audit.sinks, on_outcome=metrics.audit_sink_outcome, on_backlog=metrics.audit_sink_held
    )
    store: AuditStore = audit or SqlAuditStore(
        config.database.url,
        on_queue_depth=metrics.audit_queue.set,
        on_failure=metrics.audit_failures.inc,
        integrity=config.audit.integrity,
        retention=config.audit.retention,
        on_written=sinks.publish,
        spool=config.audit.spool,
    )
    records_engine = make_engine(config.database.url)  # the admin API's reads (and reveals) of the audit trail
    signals = ApprovalSignals()
    approvals = ApprovalStore(config.database.url, on_change=signals.publish)
    metrics.watch_pending_approvals(lambda: approvals.count_all_pending(now=clock()))
    versions = PolicyVersionStore(config.database.url)  # every policy version loaded (the policy does no I/O)
    recorder = VersionRecorder(versions, config.server.instance_id or default_instance())
    policy.listen(lambda loaded: recorder.loaded(_history_entry(loaded)))
    listener = PostgresListener(config.database.url, signals) if approvals.dialect == "postgresql" else None
    public_url = config.approvals.public_url
    notifications = Notifications(
        config.approvals.notifications,
        public_url=str(public_url).rstrip("/") if public_url is not None else None,
        console=config.console.enabled,  # links open the approval in the console, or in the API without one
        clock=clock,
        on_event=metrics.approval_event,
        on_outcome=metrics.approval_notification,
        on_queue_depth=metrics.approval_notifications_waiting,
    )
    gate = ApprovalGate(approvals, config.approvals, clock=clock, notify=notifications.notify, signals=signals)
    limiter = RateLimiter(
        config.limits,
        lambda identity: policy.policy.limits_for(identity),
        clock=limits_clock,
        on_refused=metrics.rate_limit_refused,
        on_unavailable=metrics.rate_limiter_down,
    )
    pipeline = ModelPipeline(
        router=router,
        upstreams=upstreams,
        audit=store,
        metrics=metrics,
        max_body_bytes=config.server.max_body_bytes,
        authenticate=authenticate,
        inspector=inspector,
        max_json_depth=config.server.max_json_depth,
        body_timeout=config.server.body_timeout,
        known_label=lambda label: label in policy.policy.rank,
        approvals=gate,
        instance=config.server.instance_id,
        max_text_bytes=config.audit.max_text_bytes,
        originals=originals,
        tracer=tracer,
        limits=limiter,
    )
    app[CONFIG] = config
    app[METRICS] = metrics
    app[UPSTREAMS] = upstreams
    app[ROUTER] = router
    app[AUDIT] = store
    app[AUDIT_SINKS] = sinks
    app[PIPELINE] = pipeline
    app[POLICY] = policy
    app[APPROVALS] = approvals
    app[NOTIFICATIONS] = notifications
    app[SIGNALS] = signals
    app[POLICY_VERSIONS] = versions
    drain = Drain(config.server.drain, on_change=metrics.draining.set)
    drain.install(app)
    app[DRAIN] = drain
    app[TRACER] = tracer
    app[LIMITER] = limiter

    background = TaskSet()

    async def lifespan(app: web.Application) -> AsyncIterator[None]:
        await upstreams.start()
        await limiter.start()
        await sinks.start()  # before the store: the first records written are streamed too
        await store.start()
        await asyncio.to_thread(approvals.create_tables)  # after the audit store's: one migration at a time
        await recorder.start(_history_entry(policy.loaded))
        await notifications.start()
        sweeper = ExpirySweeper(approvals, notifications.notify, interval=config.approvals.sweep_interval, clock=clock)
        _ = background.spawn(sweeper.run(), name="approval-expiry")
        if listener is not None:  # another instance's decisions release this one's waiting requests
            _ = background.spawn(listener.run(), name="approval-listener")
            try:
                async with asyncio.timeout(LISTENER_READY_TIMEOUT):
                    await listener.listening.wait()
            except TimeoutError:
                log.warning("approval listener not connected yet: waiting requests poll the store meanwhile")
        if not authenticator.configured:
            log.warning(authenticator.describe())
        if unknown := config.audit.retention.unknown_levels(policy.policy.rank):  # a typo would keep records forever
            log.warning("audit.retention names levels not on the policy's scale", extra={"levels": unknown})
        await authenticator.start()
        policy.start()
        if router.needs_discovery:
            await router.discover()
        names = [r.public_name for r in router.models()]
        if config.limits.redis_url is None and (config.limits.configured or policy.policy.limits):
            log.warning(
                "rate limits are set but limits.redis_url is not: callers with limits are "
                + ("served uncounted" if config.limits.on_redis_down == "open" else "refused (503)")
            )
        if config.limits.models and (unserved := unserved_limits(config.limits, set(names))):
            raise ConfigError(unserved, [("limits.models", unserved)])
        log.info("gateway ready", extra={"models": names, "upstreams": len(config.upstreams)})
        yield
        await policy.close()
        await recorder.close()
        versions.close()
        await authenticator.close()
        await background.cancel_all()
        await notifications.close()
        await store.close()
        records_engine.dispose()
        await sinks.close()  # after the store: the last records written are streamed too
        approvals.close()
        await limiter.close()
        await upstreams.close()
        await asyncio.to_thread(tracer.close)  # the last spans are sent (blocking: OpenTelemetry's exporter)

    app.cleanup_ctx.append(lifespan)

    async def end_event_streams(_app: web.Application) -> None:
        # on shutdown, before the server waits for its handlers: the event streams end, and the requests waiting
        # for an approval are answered (503 gateway_draining, their approval still pending) rather than cut
        signals.close()
        gate.end_waits()

    app.on_shutdown.append(end_event_streams)

    for endpoint in MODEL_ENDPOINTS:
        app.router.add_post(endpoint.path, pipeline.handler(endpoint))
    app.router.add_get("/v1/models", _list_models)
    app.router.add_get("/api/tags", _list_tags)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _metrics)
    app[APPROVALS_API] = ApprovalsApi(
        approvals, policy, authenticate, clock, inspector.redact, notifications.notify, signals=signals
    )
    app[APPROVALS_API].register(app.router)
    records_api = RecordsApi(
        records_engine,
        policy,
        authenticate,
        approvals=approvals,
        verifier=RecordVerifier.from_config(config.audit.integrity),
        export_max_rows=config.audit.export_max_rows,
        clock=clock,
    )
    app[RECORDS_API] = records_api
    records_api.register(app.router)
    reveal_api = RevealApi(records_engine, originals, policy, authenticate, inspector.redact)
    app[REVEAL_API] = reveal_api
    reveal_api.register(app.router)
    app[KEYS_API] = KeysApi(authenticator.api_keys, policy, authenticate)
    app[KEYS_API].register(app.router)
    app[STATS_API] = StatsApi(records_engine, policy, authenticate, clock)
    app[STATS_API].register(app.router)
    app[POLICY_API] = PolicyApi(policy, versions, records_engine, inspector, router, authenticate)
    app[POLICY_API].register(app.router)
    install_console(app, config, authenticator=authenticator, policy=policy, clock=clock)
    app.router.add_route("*", "/{tail:.*}", _unknown_route)
    return app


def _model_names(request: web.Request) -> list[str]:
    return [name for route in request.app[ROUTER].models() for name in (route.model.name, *route.model.aliases)]


async def _serve_listing(
    request: web.Request, name: str, render: Callable[[web.Request, list[str]], dict[str, Any]]
) -> web.Response:
    """A model listing: authenticated, recorded and counted like any model request."""
    pipeline = request.app[PIPELINE]
    exchange = pipeline.exchange(request, name)
    try:
        exchange.identify(await pipeline.authenticate(request))
        return exchange.respond(_json(render(request, _model_names(request))))
    except ClearanceError as error:
        return exchange.refuse(error)
    except Exception as exc:  # a bug: answered and recorded as the 500 it is
        log.error("listing failed", extra={"request_id": exchange.request_id, "error": type(exc).__name__})
        return exchange.refuse(InternalError(_INTERNAL_MESSAGE))
    finally:
        pipeline.finish(exchange)


def _openai_models(request: web.Request, names: list[str]) -> dict[str, Any]:
    owners = {}
    for route in request.app[ROUTER].models():
        for alias in (route.model.name, *route.model.aliases):
            owners[alias] = route.upstream.name
    created = int(time.time())
    return {
        "object": "list",
        "data": [
            {"id": n, "object": "model", "created": created, "owned_by": owners.get(n, "clearance")} for n in names
        ],
    }


async def _list_models(request: web.Request) -> web.Response:
    return await _serve_listing(request, "models", _openai_models)


async def _list_tags(request: web.Request) -> web.Response:
    return await _serve_listing(request, "ollama.tags", lambda _r, names: ollama.tags(names))


async def _healthz(_request: web.Request) -> web.Response:
    return _json({"status": "ok"})


async def _may_see_details(request: web.Request) -> bool:
    """Loopback, authenticated, or ``server.metrics_public``: see ``clearance.observability.exposure``."""
    public = request.app[CONFIG].server.metrics_public
    if may_see_details(request.remote, None, public=public, host=request.headers.get("Host")):
        return True
    if "Authorization" not in request.headers:
        return False
    try:
        identity = await request.app[PIPELINE].authenticate(request)
    except ClearanceError:
        return False
    return may_see_details(request.remote, identity, public=public, host=request.headers.get("Host"))


async def _readyz(request: web.Request) -> web.Response:
    if request.app[DRAIN].draining:  # stopping (SIGTERM): a load balancer sends new requests elsewhere
        return _json({"status": "draining"}, status=503)
    store_ok = await request.app[AUDIT].writable()
    upstreams = request.app[UPSTREAMS]
    reachable = {up.name: await upstreams.reachable(up) for up in request.app[CONFIG].upstreams}
    ready = store_ok and any(reachable.values())
    body: dict[str, Any] = {"status": "ready" if ready else "not_ready"}
    if await _may_see_details(request):
        body["checks"] = {"audit_store_writable": store_ok, "upstreams_reachable": reachable}
    return _json(body, status=200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    if not await _may_see_details(request):
        return error_response(
            PermissionDenied(
                "metrics are served to loopback and authenticated callers only; send credentials, or ask the "
                "operator to set server.metrics_public",
                code="not_allowed_from_here",
            )
        )
    metrics = request.app[METRICS]
    # in a thread: the pending approvals are counted in the database while the page is rendered
    body = await asyncio.to_thread(metrics.render)
    return web.Response(body=body, headers={"Content-Type": metrics.content_type})


async def _unknown_route(request: web.Request) -> web.Response:
    error: ClearanceError
    if request.path in _KNOWN_PATHS:
        error = MethodNotAllowed(f"{request.method} is not allowed on {request.path}")
    else:
        # the path is the caller's text and may hold anything: it is not repeated (nor recorded)
        error = UnknownRoute(
            f"no such endpoint ({request.method}). This gateway serves the OpenAI API "
            "under /v1 (chat/completions, completions, embeddings, responses, models) and the Ollama API "
            "under /api (chat, generate, embed, tags)."
        )
    exchange = request.app[PIPELINE].exchange(request, "unknown")
    try:
        return exchange.refuse(error)
    finally:
        request.app[PIPELINE].finish(exchange)
