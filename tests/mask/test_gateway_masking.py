"""Masking in the data path, with the default policy: restricted data never reaches the model or the caller.

The upstream double records every request it received; the tests assert no raw sensitive value ever arrived, for
every endpoint and field shape, and that answers (whole or streamed, split anywhere) never carry one back.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageFunctionToolCall

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

CARD = "4111 1111 1111 1111"
CARD_MASKED = "XXXX XXXX XXXX 1111"
TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
EMAIL = "jane.doe@acme-corp.io"
RAW = (CARD, "4111111111111111", TOKEN)
SECRET_TEXT = f"My card is {CARD} and my token is {TOKEN}, mail {EMAIL}."


def assert_no_raw(text: str) -> None:
    flat = text.replace("\\u0020", " ")
    for value in RAW:
        assert value not in flat, f"a raw value leaked: {value[:4]}…"


async def post(gw: RunningGateway, path: str, body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as s, s.post(gw.url + path, json=body) as r:
        return r.status, await r.read(), dict(r.headers)


REQUEST_SHAPES: list[tuple[str, dict[str, Any]]] = [
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": SECRET_TEXT}]}),
    (
        "/v1/chat/completions",
        {"messages": [{"role": "system", "content": SECRET_TEXT}, {"role": "user", "content": "hi"}]},
    ),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [{"type": "text", "text": SECRET_TEXT}]}]}),
    (
        "/v1/chat/completions",
        {
            "messages": [
                {"role": "user", "content": "pay"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {
                                "name": "pay",
                                "arguments": orjson.dumps({"card": CARD, "note": SECRET_TEXT}).decode(),
                            },
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": SECRET_TEXT},
            ]
        },
    ),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "hi"}], "user_notes": {"deep": [SECRET_TEXT]}}),
    ("/v1/completions", {"prompt": SECRET_TEXT}),
    ("/v1/completions", {"prompt": ["ok", SECRET_TEXT]}),
    ("/v1/embeddings", {"input": SECRET_TEXT}),
    ("/v1/embeddings", {"input": ["ok", SECRET_TEXT]}),
    ("/v1/responses", {"input": SECRET_TEXT}),
    (
        "/v1/responses",
        {
            "input": [{"role": "user", "content": [{"type": "input_text", "text": SECRET_TEXT}]}],
            "instructions": SECRET_TEXT,
        },
    ),
    ("/v1/responses", {"input": [{"type": "function_call_output", "call_id": "c1", "output": SECRET_TEXT}]}),
    ("/api/chat", {"messages": [{"role": "user", "content": SECRET_TEXT}], "stream": False}),
    ("/api/generate", {"prompt": SECRET_TEXT, "system": SECRET_TEXT, "stream": False}),
    ("/api/embed", {"input": [SECRET_TEXT]}),
]


@pytest.mark.parametrize(("path", "shape"), REQUEST_SHAPES)
async def test_when_request_carries_restricted_data_then_upstream_never_sees_it(
    gateway: RunningGateway, fake_upstream: FakeUpstream, path: str, shape: dict[str, Any]
) -> None:
    status, _, headers = await post(gateway, path, {"model": "fake-model", **shape})
    assert status == 200
    received = fake_upstream.all_text_received()
    assert received, "the request did reach the upstream"
    assert_no_raw(received)
    assert CARD_MASKED in received
    assert "[GITHUB_TOKEN]" in received
    assert EMAIL in received  # confidential data is not restricted: the default policy leaves it
    assert headers["X-Clearance-Decision"] == "mask"
    assert "CREDIT_CARD=" in headers["X-Clearance-Findings"]
    assert "CREDIT_CARD=" in headers["X-Clearance-Masked"]


async def test_masked_tool_arguments_stay_valid_json(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    path, shape = REQUEST_SHAPES[3]
    await post(gateway, path, {"model": "fake-model", **shape})
    call = fake_upstream.received[0].body["messages"][1]["tool_calls"][0]
    assert orjson.loads(call["function"]["arguments"])["card"] == CARD_MASKED


async def test_clean_request_is_allowed_untouched(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    _, _, headers = await post(gateway, "/v1/chat/completions", body)
    assert fake_upstream.received[0].body["messages"] == body["messages"]
    assert headers["X-Clearance-Decision"] == "allow"
    assert "X-Clearance-Findings" not in headers


async def test_token_ids_cannot_be_inspected_so_they_are_refused(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    status, body, _ = await post(gateway, "/v1/embeddings", {"model": "fake-model", "input": [[101, 2023, 102]]})
    assert status == 400
    assert orjson.loads(body)["error"]["code"] == "unsupported_input"
    assert fake_upstream.received == []


async def test_whole_answers_are_masked_tool_calls_included(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.reply = f"Sure, the card {CARD} is on file."
    fake_upstream.behaviour.tool_call = {"name": "charge", "arguments": orjson.dumps({"card": CARD}).decode()}
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as sdk:
        reply = await sdk.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": "card?"}])
    message = reply.choices[0].message
    assert message.content == f"Sure, the card {CARD_MASKED} is on file."
    assert message.tool_calls is not None
    [call] = message.tool_calls
    assert isinstance(call, ChatCompletionMessageFunctionToolCall)
    assert orjson.loads(call.function.arguments) == {"card": CARD_MASKED}


def splits(text: str) -> list[list[str]]:
    """The text split in two at every position, and in pieces of every small size."""
    out = [[text[:k], text[k:]] for k in range(1, len(text))]
    out += [[text[i : i + n] for i in range(0, len(text), n)] for n in (1, 2, 3, 5, 7)]
    return out


LEAKY_REPLY = f"Card {CARD} and {TOKEN} ok"
EXPECTED_LEAKY = f"Card {CARD_MASKED} and [GITHUB_TOKEN] ok"


def without_public_prefix(text: str) -> str:
    """A plain word goes out before the token it starts turns out to be a secret, so the token's public prefix
    (``g``, ``gh``, ``ghp``) may show before ``[GITHUB_TOKEN]``; never any of the secret part."""
    return re.sub(r"(?:g|gh|ghp)?\[GITHUB_TOKEN\]", "[GITHUB_TOKEN]", text)


async def test_leaky_stream_split_anywhere_never_leaks(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await make_gateway([{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}])
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
        for pieces in splits(LEAKY_REPLY):
            fake_upstream.behaviour.pieces = pieces
            stream = await sdk.chat.completions.create(
                model="fake-model", messages=[{"role": "user", "content": "go"}], stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert_no_raw(text)
            assert without_public_prefix(text) == EXPECTED_LEAKY


@pytest.mark.parametrize("path", ["/api/chat", "/api/generate"])
async def test_leaky_ollama_stream_never_leaks(gateway: RunningGateway, fake_upstream: FakeUpstream, path: str) -> None:
    for pieces in splits(LEAKY_REPLY)[::4]:
        fake_upstream.behaviour.pieces = pieces
        body = {"model": "fake-model", "messages": [{"role": "user", "content": "go"}], "prompt": "go"}
        _, raw, _ = await post(gateway, path, body)
        lines = [orjson.loads(x) for x in raw.splitlines()]
        key = "response" if path == "/api/generate" else "message"
        text = "".join(o[key] if key == "response" else o[key]["content"] for o in lines)
        assert_no_raw(text)
        assert without_public_prefix(text) == EXPECTED_LEAKY
        assert lines[-1]["done"] is True


async def test_streamed_responses_api_is_masked(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    fake_upstream.behaviour.pieces = ["Card 4111 11", "11 1111 1111 ok"]
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.responses.create(model="fake-model", input="go", stream=True)
        deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
    assert "".join(deltas) == f"Card {CARD_MASKED} ok"


async def test_n_choices_are_masked_independently(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    fake_upstream.behaviour.pieces = ["pay 4111 1111 ", "1111 1111 now"]
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "go"}], stream=True, n=2,
            stream_options={"include_usage": True},
        )  # fmt: skip
        texts = ["", ""]
        usage = None
        async for chunk in stream:
            usage = chunk.usage or usage
            for choice in chunk.choices:
                texts[choice.index] += choice.delta.content or ""
    assert texts == [f"pay {CARD_MASKED} now"] * 2
    assert usage is not None


async def test_audit_holds_counts_never_values(
    gateway: RunningGateway, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    fake_upstream.behaviour.reply = f"echo {CARD}"
    await post(
        gateway, "/v1/chat/completions", {"model": "fake-model", "messages": [{"role": "user", "content": SECRET_TEXT}]}
    )
    [record] = await gateway.records()
    assert record["decision"] == "mask"
    assert record["findings"]["CREDIT_CARD"] == 1
    assert record["masked_request"]["GITHUB_TOKEN"] == 1
    assert record["masked_response"] == {"CREDIT_CARD": 1}
    assert record["record_mode"] == "metadata"
    await gateway.audit.flush()
    for file in tmp_path.rglob("*"):  # the database, its WAL, and the audit spool beside it (audit.db.spool/)
        if not file.is_file() or not file.relative_to(tmp_path).parts[0].startswith("audit.db"):
            continue
        data = file.read_bytes()
        for value in RAW:
            assert value.encode() not in data
    with sqlite3.connect(tmp_path / "audit.db") as db:
        assert db.execute("select count(*) from audit_records").fetchone() == (1,)


IBAN_LETTERS = "GB82 WEST 1234 5698 7654 32"


async def test_an_iban_with_letters_in_its_groups_never_leaks_when_split(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    reply = f"Pay to {IBAN_LETTERS} today"
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as sdk:
        for pieces in splits(reply)[::3]:
            fake_upstream.behaviour.pieces = pieces
            stream = await sdk.chat.completions.create(
                model="fake-model", messages=[{"role": "user", "content": "go"}], stream=True
            )
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert "WEST" not in text, pieces
            assert "GB82" not in text, pieces
            assert text.endswith(" today")


async def test_first_word_goes_out_without_waiting_for_the_next_event(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    """With only structured types masked (the default), a plain first word is not held for the next event."""
    fake_upstream.behaviour.pieces = ["Hello", " there", " friend"]
    fake_upstream.behaviour.event_delay_s = 0.3
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "go"}], stream=True
        )
        loop = asyncio.get_running_loop()
        started = loop.time()
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                assert chunk.choices[0].delta.content == "Hello"
                first_text_after = loop.time() - started
                break
        await stream.close()
    assert first_text_after < 0.3 * 2  # one event's delay, not two
