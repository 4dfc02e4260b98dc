"""Running the gateway: an aiohttp runner with handler cancellation (a client that goes away cancels its
upstream request), drained on SIGINT/SIGTERM (``clearance.drain``): readiness fails at once, requests in flight
finish up to a deadline, and every queued audit record is written.

With no upstream configured, ``serve`` first provisions and starts the bundled local model
(``clearance.localmodel``) and puts the gateway in front of it.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from clearance.app import DRAIN, POLICY, create_app
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


def listening_url(runner: web.AppRunner) -> str:
    """Where the gateway listens, as bound: the port the OS chose for port 0, a worker's inherited socket's port."""
    host, port = runner.addresses[0][:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def run_gateway(
    config: GatewayConfig,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    sockets: Sequence[socket.socket] = (),
) -> None:
    """Serve until SIGINT or SIGTERM (or ``stop``), then drain (``clearance.drain``: ``server.drain``'s grace and
    deadline); a second signal cuts the drain short. ``ready`` is set once the gateway listens."""
    app = create_app(config)
    drain = app[DRAIN]
    # aiohttp waits this long for the handlers in flight: the drain cuts them at its own deadline, before
    runner = web.AppRunner(app, shutdown_timeout=config.server.drain.deadline, **runner_options(config.server))
    await runner.setup()
    freeze_startup_objects()
    stop = stop or asyncio.Event()
    again = asyncio.Event()
    loop = asyncio.get_running_loop()
    # before listening: a SIGTERM that arrives as soon as the port answers is a drain, not the default death
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, app[POLICY].reload)
    # ``sockets``: listening sockets to serve instead of binding host and port (a worker of clearance.workers)
    sites: list[web.BaseSite] = [web.SockSite(runner, sock) for sock in sockets] or [
        web.TCPSite(runner, config.server.host, config.server.port)
    ]
    try:
        for site in sites:
            await site.start()
        log.info("listening", extra={"url": listening_url(runner), "upstreams": len(config.upstreams)})
        if ready is not None:
            ready.set()
        await stop.wait()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, again.set)  # a second signal: stop at once
        await drain.run(runner, again)  # runner.cleanup included
    except BaseException:
        if runner.server is not None:  # the drain did not get to aiohttp's cleanup: still shut down
            await runner.cleanup()
        raise
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)


@asynccontextmanager
async def with_upstream(config: GatewayConfig) -> AsyncIterator[GatewayConfig]:
    """``config`` itself when it names an upstream; else the bundled local model is provisioned and started for
    the block, and ``config`` comes back with it as its upstream (stopped when the block ends)."""
    if config.upstreams:
        yield config
        return
    log.warning("no upstream configured: starting the bundled local model (built once, then cached)")
    paths = await asyncio.to_thread(provision)
    async with LocalModelServer.start(paths) as local:
        upstream = UpstreamConfig.model_validate(
            {"name": "local", "base_url": local.base_url, "models": [{"name": local.model}]}
        )
        log.info("local model ready", extra={"model": local.model, "upstream": local.base_url})
        yield config.model_copy(update={"upstreams": (upstream,)})


async def serve(config: GatewayConfig) -> None:
    """Run the gateway; in front of the bundled local model when ``config`` names no upstream."""
    async with with_upstream(config) as served:
        await run_gateway(served)


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when uvloop is installed, else None (asyncio's own loop).

    On the proxy benchmark (bench/proxy.py) uvloop takes about a quarter off the gateway's CPU per request.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop
