"""Ollama-native endpoints: translated for an OpenAI upstream, passed through to an Ollama upstream."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
import pytest

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway


@pytest.fixture(params=["openai", "ollama"])
async def ollama_gateway(
    request: pytest.FixtureRequest, make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> RunningGateway:
    base = fake_upstream.base_url if request.param == "openai" else fake_upstream.root
    return await make_gateway([{"name": "up", "kind": request.param, "base_url": base, "models": ["fake-model"]}])


async def lines(gw: RunningGateway, path: str, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]], str]:
    async with aiohttp.ClientSession() as s, s.post(gw.url + path, json=body) as r:
        raw = await r.read()
        return r.status, [orjson.loads(x) for x in raw.splitlines() if x.strip()], r.content_type


async def test_chat_streams_ndjson_by_default(ollama_gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    status, objs, ctype = await lines(
        ollama_gateway, "/api/chat", {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
    )
    assert status == 200
    assert ctype == "application/x-ndjson"
    assert "".join(o["message"]["content"] for o in objs) == fake_upstream.behaviour.reply
    assert [o["done"] for o in objs].count(True) == 1
    assert objs[-1]["done"] is True
    assert objs[-1]["eval_count"] > 0
    [record] = await ollama_gateway.records()
    assert record["total_tokens"] == objs[-1]["prompt_eval_count"] + objs[-1]["eval_count"]


async def test_chat_without_stream(ollama_gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    status, [obj], _ = await lines(
        ollama_gateway,
        "/api/chat",
        {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "stream": False},
    )
    assert status == 200
    assert obj["message"] == {"role": "assistant", "content": fake_upstream.behaviour.reply}
    assert obj["done"] is True


async def test_generate_streamed_and_not(ollama_gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    _, objs, _ = await lines(
        ollama_gateway, "/api/generate", {"model": "fake-model", "prompt": "Why?", "system": "Be brief"}
    )
    assert "".join(o["response"] for o in objs) == fake_upstream.behaviour.reply
    _, [obj], _ = await lines(
        ollama_gateway, "/api/generate", {"model": "fake-model", "prompt": "Why?", "stream": False}
    )
    assert obj["response"] == fake_upstream.behaviour.reply


async def test_embed(ollama_gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    _, [obj], _ = await lines(ollama_gateway, "/api/embed", {"model": "fake-model", "input": ["a", "b"]})
    assert len(obj["embeddings"]) == 2
    assert len(obj["embeddings"][0]) == fake_upstream.behaviour.embedding_dim


async def test_tags_lists_models(ollama_gateway: RunningGateway) -> None:
    async with aiohttp.ClientSession() as s, s.get(ollama_gateway.url + "/api/tags") as r:
        body = await r.json()
    assert [m["name"] for m in body["models"]] == ["fake-model"]


async def test_translation_sends_openai_shapes_to_an_openai_upstream(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await make_gateway([{"name": "up", "base_url": fake_upstream.base_url, "models": ["fake-model"]}])
    await lines(
        gw,
        "/api/generate",
        {
            "model": "fake-model",
            "prompt": "Why?",
            "system": "Be brief",
            "options": {"temperature": 0.1, "num_predict": 9},
        },
    )
    [received] = fake_upstream.received
    assert received.path == "/v1/chat/completions"
    assert received.body["messages"] == [{"role": "system", "content": "Be brief"}, {"role": "user", "content": "Why?"}]
    assert received.body["temperature"] == 0.1
    assert received.body["max_tokens"] == 9
    assert received.body["stream"] is True


async def test_openai_request_to_an_ollama_upstream_uses_its_v1_api(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await make_gateway(
        [{"name": "up", "kind": "ollama", "base_url": fake_upstream.root, "models": ["fake-model"]}]
    )
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            gw.base_url + "/chat/completions",
            json={"model": "fake-model", "messages": [{"role": "user", "content": "x"}]},
        ) as r,
    ):
        assert r.status == 200
    assert fake_upstream.received[0].path == "/v1/chat/completions"


async def test_models_are_discovered_when_not_configured(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.models = ("found-a", "found-b")
    gw = await make_gateway([{"name": "up", "base_url": fake_upstream.base_url}])
    async with aiohttp.ClientSession() as s, s.get(gw.base_url + "/models") as r:
        body = await r.json()
    assert [m["id"] for m in body["data"]] == ["found-a", "found-b"]
