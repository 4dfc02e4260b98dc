"""End to end: the official openai SDK, through the gateway, to the real local model (llama-server + SmolLM2)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import aiohttp.web
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.localmodel import LocalModelServer
from tests.conftest import GatewayFactory, RunningGateway

pytestmark = pytest.mark.realmodel

HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello in one short sentence."}]


@pytest.fixture
async def real_gateway(make_gateway: GatewayFactory, local_model: LocalModelServer) -> RunningGateway:
    return await make_gateway([{"name": "local", "base_url": local_model.base_url, "models": [local_model.model]}])


@pytest.fixture
async def sdk(real_gateway: RunningGateway) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=real_gateway.base_url, api_key="unused", max_retries=0) as client:
        yield client


async def test_chat(sdk: openai.AsyncOpenAI, local_model: LocalModelServer, real_gateway: RunningGateway) -> None:
    reply = await sdk.chat.completions.create(model=local_model.model, messages=HELLO, max_tokens=24)
    assert reply.choices[0].message.content
    assert reply.usage is not None
    assert reply.usage.completion_tokens > 0
    [record] = await real_gateway.records()
    assert record["completion_tokens"] == reply.usage.completion_tokens


async def test_streamed_chat(sdk: openai.AsyncOpenAI, local_model: LocalModelServer) -> None:
    stream = await sdk.chat.completions.create(
        model=local_model.model,
        messages=HELLO,
        max_tokens=24,
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert len(pieces) > 3
    assert "".join(pieces).strip()


async def test_embeddings(sdk: openai.AsyncOpenAI, local_model: LocalModelServer) -> None:
    result = await sdk.embeddings.create(model=local_model.model, input=["the gateway", "a model"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) == len(result.data[1].embedding) > 100
    assert result.data[0].embedding != result.data[1].embedding


async def test_ollama_chat_translated_to_the_real_model(
    real_gateway: RunningGateway, local_model: LocalModelServer
) -> None:
    body = {"model": local_model.model, "messages": HELLO, "options": {"num_predict": 16}}
    async with aiohttp.ClientSession() as s, s.post(real_gateway.url + "/api/chat", json=body) as r:
        lines = [line for line in (await r.read()).splitlines() if line]
    assert r.status == 200
    objects = [orjson.loads(line) for line in lines]
    assert objects[-1]["done"] is True
    assert [o["done"] for o in objects].count(True) == 1
    assert "".join(o["message"]["content"] for o in objects).strip()
    assert objects[-1]["eval_count"] > 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_serve_without_upstream_starts_the_local_model(tmp_path: Path, local_model: LocalModelServer) -> None:
    """The README's run command: `clearance serve` with nothing configured puts the gateway in front of the model."""
    port = _free_port()
    config = tmp_path / "clearance.yaml"
    config.write_text(f"server:\n  port: {port}\naudit:\n  url: sqlite:///{tmp_path / 'audit.db'}\n")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clearance", "serve", "--config", str(config),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE, env={**os.environ},
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as s:
            for _ in range(300):  # bounded: up to 60 s for the cached model to start
                try:
                    async with s.get(base + "/readyz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.2)
            else:
                pytest.fail("the gateway never became ready")
        async with openai.AsyncOpenAI(base_url=base + "/v1", api_key="unused", max_retries=0) as sdk:
            models = [m.id async for m in sdk.models.list()]
            assert models == [local_model.model]
            reply = await sdk.chat.completions.create(model=models[0], messages=HELLO, max_tokens=8)
            assert reply.choices[0].message.content
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, stderr.decode()[-2000:]
    with sqlite3.connect(tmp_path / "audit.db") as db:
        endpoints = [row[0] for row in db.execute("select endpoint from audit_records order by id")]
    assert endpoints == ["models", "chat.completions"]


class RecordingRelay:
    """Sits between the gateway and the real model and keeps a copy of every request body it passes on."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.bodies: list[bytes] = []
        self.runner: aiohttp.web.AppRunner | None = None
        self.url = ""

    async def _relay(self, request: aiohttp.web.Request) -> aiohttp.web.StreamResponse:
        body = await request.read()
        self.bodies.append(body)
        async with aiohttp.ClientSession() as s, s.request(
            request.method, self.target + request.path_qs.removeprefix("/v1"), data=body or None,
            headers={"Content-Type": "application/json"},
        ) as upstream:  # fmt: skip
            response = aiohttp.web.StreamResponse(
                status=upstream.status, headers={"Content-Type": upstream.content_type}
            )
            await response.prepare(request)
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
            return response

    async def __aenter__(self) -> RecordingRelay:
        app = aiohttp.web.Application()
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self.runner = aiohttp.web.AppRunner(app)
        await self.runner.setup()
        site = aiohttp.web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


async def test_a_card_reaches_the_real_model_masked(
    make_gateway: GatewayFactory, local_model: LocalModelServer
) -> None:
    card = "4111 1111 1111 1111"
    async with RecordingRelay(local_model.base_url) as relay:
        gw = await make_gateway([{"name": "local", "base_url": relay.url, "models": [local_model.model]}])
        async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="unused", max_retries=0) as sdk:
            reply = await sdk.chat.completions.create(
                model=local_model.model,
                messages=[{"role": "user", "content": f"Repeat this card number exactly: {card}"}],
                max_tokens=40,
            )
    seen_by_model = b"\n".join(relay.bodies).decode()
    assert "XXXX XXXX XXXX 1111" in seen_by_model
    assert card not in seen_by_model
    assert "4111111111111111" not in seen_by_model
    assert card not in (reply.choices[0].message.content or "")
