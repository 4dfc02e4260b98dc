"""Running the gateway: an aiohttp runner with handler cancellation (a client that goes away cancels its
upstream request), stopped cleanly on SIGINT/SIGTERM so every queued audit record is written.

With no upstream configured, ``serve`` first provisions and starts the bundled local model
(``clearance.localmodel``) and puts the gateway in front of it.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from clearance.app import POLICY, create_app
from clearance.config import GatewayConfig, UpstreamConfig
from clearance.localmodel import LocalModelServer, provision

log = logging.getLogger("clearance.server")


async def run_gateway(
    config: GatewayConfig, *, ready: asyncio.Event | None = None, stop: asyncio.Event | None = None
) -> None:
    app = create_app(config)
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.server.host, config.server.port)
    await site.start()
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
