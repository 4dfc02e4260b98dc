"""The floor for a Python proxy: an aiohttp server relaying each request to the upstream with one pooled aiohttp
ClientSession, the body as it came and a stream chunk by chunk as it arrives. No parsing, no checks, no records.

    python -m bench.plain_proxy --port 9002 --upstream http://127.0.0.1:9001 --loop uvloop [--workers 4]

With ``--workers N``, N processes serve the port (``SO_REUSEPORT``), as ``clearance serve --workers N`` does.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bench.event_loop import LoopKind, run
from bench.processes import fork_workers

SESSION = web.AppKey("session", aiohttp.ClientSession)


def make_app(upstream: str) -> web.Application:
    app = web.Application(client_max_size=16 * 1024 * 1024)

    async def session_ctx(app: web.Application) -> AsyncIterator[None]:
        app[SESSION] = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        yield
        await app[SESSION].close()

    async def relay(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {"Content-Type": request.headers.get("Content-Type", "application/json")}
        async with app[SESSION].post(upstream + request.path_qs, data=body, headers=headers) as up:
            content_type = up.headers.get("Content-Type", "application/json")
            if content_type.startswith("application/json"):
                return web.Response(body=await up.read(), status=up.status, headers={"Content-Type": content_type})
            response = web.StreamResponse(status=up.status, headers={"Content-Type": content_type})
            await response.prepare(request)
            async for chunk in up.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    app.cleanup_ctx.append(session_ctx)
    app.router.add_post("/{tail:.*}", relay)
    return app


async def serve(port: int, upstream: str, reuse_port: bool = False) -> None:
    runner = web.AppRunner(make_app(upstream), handler_cancellation=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_port=reuse_port or None).start()
    print(f"READY {port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the upstream's root URL, e.g. http://127.0.0.1:9001")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="asyncio")
    parser.add_argument("--workers", type=int, default=1, help="processes serving the port (SO_REUSEPORT)")
    args = parser.parse_args()
    loop: LoopKind = args.loop
    fork_workers(args.workers)
    run(serve(args.port, args.upstream.rstrip("/"), reuse_port=args.workers > 1), loop)


if __name__ == "__main__":
    main()
