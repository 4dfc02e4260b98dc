"""Running the gateway: an aiohttp runner with handler cancellation (a client that goes away cancels its
upstream request), stopped cleanly on SIGINT/SIGTERM so every queued audit record is written.

With no upstream configured, ``serve`` first provisions and starts the bundled local model
(``clearance.localmodel``) and puts the gateway in front of it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from typing import Any

from aiohttp import web

from clearance.app import POLICY, create_app
from clearance.config import GatewayConfig, ServerConfig, UpstreamConfig
from clearance.localmodel import LocalModelServer, provision

log = logging.getLogger("clearance.server")


def runner_options(server: ServerConfig) -> dict[str, Any]:
    """How the gateway's HTTP server runs (``web.AppRunner``/``TestServer`` keyword arguments).

    - ``keepalive_timeout``: aiohttp closes a connection that has not completed a request's headers this long
      after it opened or after its previous answer: that is ``server.header_timeout``, so a client that trickles
      its headers, or sends none, is dropped (the body's own limit is ``server.body_timeout``, in the pipeline).
    - ``auto_decompress`` off: the pipeline decodes request bodies itself (``clearance.proxy.request_body``), so a
      body that does not match its ``Content-Encoding`` gets a recorded 400, an unknown encoding a 415.
    - ``lingering_time``: after answering a request whose body it did not read whole (a 408, a 413), aiohttp
      keeps reading what is left before closing, so the client sees the answer rather than a reset; that grace
      is bounded by ``server.body_timeout`` too.
    - ``handler_cancellation``: a client that goes away cancels its upstream request.
    """
    return {
        "handler_cancellation": True,
        "access_log": None,
        "keepalive_timeout": server.header_timeout,
        "auto_decompress": False,
        "lingering_time": min(10.0, server.body_timeout),
    }


def freeze_startup_objects() -> None:
    """Put everything alive once the gateway has started (modules, compiled patterns, the detection engine, the app
    and its stores: some 150,000 objects) out of the garbage collector's reach, after collecting what start-up left.

    Without it every full collection walks all of them again: under load one took about 100 ms, a stall every
    request and stream in flight waited through (docs/benchmark-proxy.md, "Per-core cost"). Frozen objects are
    still freed when their last reference goes; only a reference cycle among them is never collected (what start-up
    built lives as long as the process anyway), and everything made later is collected as before.
    """
    gc.collect()
    gc.freeze()


async def run_gateway(
    config: GatewayConfig, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, **runner_options(config.server))
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
    freeze_startup_objects()
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, app[POLICY].reload)
    log.info(
        "listening",
        extra={"url": f"http://{config.server.host}:{config.server.port}", "upstreams": len(config.upstreams)},
    )
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
        log.info("shutting down")
        await runner.cleanup()


async def serve(config: GatewayConfig) -> None:
    """Run the gateway; in front of the bundled local model when ``config`` names no upstream."""
    if config.upstreams:
        await run_gateway(config)
        return
    log.warning("no upstream configured: starting the bundled local model (built once, then cached)")
    paths = await asyncio.to_thread(provision)
    async with LocalModelServer.start(paths) as local:
        upstream = UpstreamConfig.model_validate(
            {"name": "local", "base_url": local.base_url, "models": [{"name": local.model}]}
        )
        log.info("local model ready", extra={"model": local.model, "upstream": local.base_url})
        await run_gateway(config.model_copy(update={"upstreams": (upstream,)}))
