"""Through the gateway: what a request's structure hides is refused (400, naming the field) or masked, and
nothing refused reaches the upstream double."""

from __future__ import annotations

from typing import Any

import aiohttp
import openai
import orjson
import pytest

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway
from tests.image_samples import data_url, jpeg, png

CARD = "4111 1111 1111 1111"


@pytest.fixture
async def gw(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> RunningGateway:
    return await make_gateway(
        [
            {"name": "oa", "base_url": fake_upstream.base_url, "models": ["fake-model"]},
            {"name": "ol", "kind": "ollama", "base_url": fake_upstream.root, "models": ["ollama-model"]},
        ]
    )


async def post(gw: RunningGateway, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.post(gw.url + path, json=body) as r:
        return r.status, orjson.loads(await r.read())


def chat(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": "fake-model", "messages": list(messages), **extra}


USER = {"role": "user", "content": "hi"}

REFUSED = [
    ("/v1/chat/completions", chat({"role": "customer", "content": "hi"}), "messages[0].role"),
    (
        "/v1/chat/completions",
        chat({"role": "user", "content": [{"type": CARD, "text": "x"}]}),
        "messages[0].content[0].type",
    ),
    (
        "/v1/chat/completions",
        chat({"role": "tool", "tool_call_id": f"call_{CARD}", "content": "x"}),
        "messages[0].tool_call_id",
    ),
    (
        "/v1/chat/completions",
        chat({"role": "tool", "tool_call_id": "call_4111111111111111", "content": "x"}),
        "messages[0].tool_call_id",
    ),
    (
        "/v1/chat/completions",
        chat(USER, tools=[{"type": "function", "function": {"name": f"pay {CARD}"}}]),
        "tools[0].function.name",
    ),
    ("/v1/chat/completions", chat({**USER, CARD: "x"}), "messages[0].<key>"),
    ("/v1/chat/completions", chat(USER, extra={"536-22-1234": True}), "extra.<key>"),
    ("/v1/completions", {"model": "fake-model", "prompt": [[], [1, 2]]}, "prompt"),
    ("/v1/embeddings", {"model": "fake-model", "input": [[], [7]]}, "input"),
    (
        "/v1/responses",
        {"model": "fake-model", "input": [{"type": "function_call_output", "call_id": "a b", "output": "x"}]},
        "input[0].call_id",
    ),
    ("/api/generate", {"model": "ollama-model", "prompt": "hi", "context": [1, 2, 3], "stream": False}, "context"),
    ("/api/generate", {"model": "fake-model", "prompt": "hi", "context": [[], [3]], "stream": False}, "context"),
    (
        "/api/chat",
        {"model": "ollama-model", "messages": [{"role": "tool", "tool_name": "a b", "content": "x"}]},
        "messages[0].tool_name",
    ),
    ("/api/embed", {"model": "ollama-model", "input": "hi", "x": {"id": CARD}}, "x.id"),
]


@pytest.mark.parametrize(("path", "body", "param"), REFUSED)
async def test_what_cannot_be_masked_is_refused_naming_the_field(
    gw: RunningGateway, fake_upstream: FakeUpstream, path: str, body: dict[str, Any], param: str
) -> None:
    status, answer = await post(gw, path, body)
    assert status == 400
    assert answer["error"]["param"] == param
    assert answer["error"]["code"] in ("invalid_request", "unsupported_input")
    assert "4111" not in answer["error"]["message"] and "536-22" not in answer["error"]["message"]
    assert fake_upstream.received == []
    [record] = await gw.records()
    assert record["status"] == 400


async def test_an_unknown_model_is_still_not_found(gw: RunningGateway, fake_upstream: FakeUpstream) -> None:
    status, answer = await post(gw, "/v1/chat/completions", chat(USER) | {"model": "no such model"})
    assert (status, answer["error"]["code"]) == (404, "model_not_found")
    assert fake_upstream.received == []


async def test_numbers_holding_values_arrive_masked_as_strings(gw: RunningGateway, fake_upstream: FakeUpstream) -> None:
    status, _answer = await post(
        gw, "/v1/chat/completions", chat(USER, ref=4111111111111111, customer={"ssn": 536221234})
    )
    assert status == 200
    [received] = fake_upstream.received
    assert received.body["ref"] == "XXXXXXXXXXXX1111"
    assert received.body["customer"] == {"ssn": "XXXXX1234"}  # the default policy shows the last four


async def test_real_images_pass_untouched_and_fake_ones_are_text(
    gw: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    urls = [data_url("png", png()), data_url("jpeg", jpeg()), f"data:image/png;base64,{CARD}"]
    parts = [{"type": "image_url", "image_url": {"url": url}} for url in urls]
    status, _answer = await post(gw, "/v1/chat/completions", chat({"role": "user", "content": parts}))
    assert status == 200
    sent = [p["image_url"]["url"] for p in fake_upstream.received[0].body["messages"][0]["content"]]
    assert sent == [*urls[:2], "data:image/png;base64,XXXX XXXX XXXX 1111"]


SPLITS = [
    (
        "/v1/chat/completions",
        chat({"role": "user", "content": "card 4111 1111"}, {"role": "user", "content": "1111 1111"}),
    ),
    (
        "/v1/chat/completions",
        chat(
            {
                "role": "user",
                "content": [{"type": "text", "text": "card 4111 11"}, {"type": "text", "text": "11 1111 1111"}],
            }
        ),
    ),
    ("/v1/completions", {"model": "fake-model", "prompt": ["card 4111 1111", "1111 1111"]}),
    ("/v1/embeddings", {"model": "fake-model", "input": ["card 4111", "1111", "1111", "1111"]}),
    ("/v1/responses", {"model": "fake-model", "instructions": "card 4111 1111", "input": "1111 1111"}),
    (
        "/api/chat",
        {
            "model": "ollama-model",
            "stream": False,
            "messages": [{"role": "user", "content": "card 4111 1111"}, {"role": "user", "content": "1111 1111"}],
        },
    ),
    ("/api/generate", {"model": "fake-model", "stream": False, "system": "card 4111 1111", "prompt": "1111 1111"}),
    ("/api/embed", {"model": "ollama-model", "input": ["card 4111 1111", "1111 1111"]}),
]


@pytest.mark.parametrize(("path", "body"), SPLITS)
async def test_a_card_split_across_adjacent_texts_never_arrives(
    gw: RunningGateway, fake_upstream: FakeUpstream, path: str, body: dict[str, Any]
) -> None:
    status, _answer = await post(gw, path, body)
    assert status == 200
    [received] = fake_upstream.received
    digits = "".join(c for c in fake_upstream.all_text_received() if c.isdigit())
    assert "4111" not in digits and "11111111" not in digits, received.body


async def test_the_openai_sdk_gets_a_400_it_can_read(gw: RunningGateway, fake_upstream: FakeUpstream) -> None:
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="unused", max_retries=0) as client:
        with pytest.raises(openai.BadRequestError) as info:
            await client.chat.completions.create(
                model="fake-model",
                messages=[{"role": "tool", "tool_call_id": "call_4111111111111111", "content": "x"}],
            )
    assert info.value.status_code == 400
    assert "messages[0].tool_call_id" in str(info.value)
    assert fake_upstream.received == []


async def test_ollama_images_pass_only_when_real(gw: RunningGateway, fake_upstream: FakeUpstream) -> None:
    real = data_url("png", png()).split(",", 1)[1]
    message = {"role": "user", "content": "what is this?", "images": [real, f"not an image {CARD}"]}
    status, _answer = await post(gw, "/api/chat", {"model": "ollama-model", "stream": False, "messages": [message]})
    assert status == 200
    [received] = fake_upstream.received
    assert received.body["messages"][0]["images"] == [real, "not an image XXXX XXXX XXXX 1111"]
