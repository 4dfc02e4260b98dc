"""A raw upstream for answers the ``FakeUpstream`` double does not make: any status, headers and body bytes.

``FakeUpstream`` speaks well-formed APIs; an attacker's or a broken upstream does not. This one answers every
POST with exactly the ``Answer`` it is given (bytes as they are: compressed or not, any content type) and records
what it received.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})


@dataclass
class ScriptedUpstream:
    answer: Answer = field(default_factory=Answer)
    received: list[Any] = field(default_factory=list)
    received_raw: list[bytes] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received_raw.append(raw)
        self.received.append(orjson.loads(raw))
        # auto-compression off: the body goes out byte for byte, with the headers given
        return web.Response(status=self.answer.status, body=self.answer.body, headers=self.answer.headers)

    async def _elsewhere(self, request: web.Request) -> web.Response:
        self.received.append({"redirected_to": request.path})
        return web.json_response({"choices": [{"message": {"role": "assistant", "content": "moved"}}]})


@asynccontextmanager
async def scripted_upstream(answer: Answer | None = None) -> AsyncIterator[ScriptedUpstream]:
    upstream = ScriptedUpstream(answer or Answer())
    app = web.Application()
    app.router.add_post("/elsewhere", upstream._elsewhere)
    app.router.add_post("/{tail:.*}", upstream._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream.port = int(runner.addresses[0][1])
    try:
        yield upstream
    finally:
        await runner.cleanup()
