"""The red team's attack classes on the request side and the pipeline's edges, kept as regressions.

Each class goes through the gateway to the recording upstream double; a case passes when the upstream never
received the raw value (refused with a 4xx, or masked), the gateway answered below 500, and neither the audit
database's bytes (WAL included) nor the log lines hold the value.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

CARD = "4111111111111111"
"""The value every case hides: its digits must never arrive in a row, whatever separates them."""
HI = {"role": "user", "content": "hi"}


@pytest.fixture
async def gw(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> RunningGateway:
    return await make_gateway(
        [
            {"name": "oa", "base_url": fake_upstream.base_url, "models": ["fake-model"]},
            {"name": "ol", "kind": "ollama", "base_url": fake_upstream.root, "models": ["ollama-model"]},
        ]
    )


async def send(
    gw: RunningGateway, path: str, data: bytes, *, method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    sent = {"Content-Type": "application/json", **(headers or {})}
    async with aiohttp.ClientSession() as s, s.request(method, gw.url + path, data=data, headers=sent) as r:
        return r.status, await r.read()


def card_digits_in(text: str) -> bool:
    """Whether the card's digits appear in ``text`` in a row once everything but digits is taken out."""
    return CARD in re.sub(r"[^0-9]", "", text)


async def assert_nothing_raw(gw: RunningGateway, fake_upstream: FakeUpstream, tmp_path: Path, logs: str) -> None:
    received = repr([(r.method, r.path, r.headers, orjson.dumps(r.body).decode()) for r in fake_upstream.received])
    assert not card_digits_in(received), received
    await gw.records()  # flushed
    stored = b"".join(  # the database, its WAL, and the audit spool beside it (audit.db.spool/)
        p.read_bytes()
        for p in sorted(tmp_path.rglob("*"))
        if p.is_file() and p.relative_to(tmp_path).parts[0].startswith("audit.db")
    )
    assert CARD.encode() not in stored
    assert CARD not in logs


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    # aiohttp's own debug line for a malformed request line quotes the bytes it refused; it is off unless the
    # event loop runs in debug mode, and is not the gateway's log
    return "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if r.name != "aiohttp.server")


# -- numbers: a card in a fraction or a mantissa is still a card -------------------------------------------------

NUMBERS = [
    "4111111111111111.5",
    "0.4111111111111111",
    "4.111111111111111e20",
    "4.111111111111111E+25",
    "-0.4111111111111111",
    "41111111111111.11",
]


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize(
    "where",
    [
        '{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"x":NUM}',
        '{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"metadata":{"n":[NUM]}}',
        '{"model":"fake-model","messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function",'
        '"function":{"name":"f","arguments":"{\\"n\\": NUM}"}}]}]}',
        '{"model":"ollama-model","stream":false,"prompt":"hi","options":{"seed":NUM}}',
    ],
)
async def test_card_digits_in_a_float_never_arrive(
    gw: RunningGateway,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    number: str,
    where: str,
) -> None:
    path = "/api/generate" if "ollama" in where else "/v1/chat/completions"
    status, _body = await send(gw, path, where.replace("NUM", number).encode())
    assert status < 500
    for received in fake_upstream.received:
        # digits of the forwarded numbers, as the model reads them: each number's digits in a row
        numbers = re.findall(r"[0-9][0-9.eE+-]*", orjson.dumps(received.body).decode())
        assert not any(CARD in re.sub(r"[^0-9]", "", n) for n in numbers)
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


async def test_short_fractions_pass_as_numbers(gw: RunningGateway, fake_upstream: FakeUpstream) -> None:
    """What keeps the float class honest: ordinary parameters are forwarded as the numbers they were."""
    body = {"model": "fake-model", "messages": [HI], "temperature": 0.7, "top_p": 0.95, "x": 1234.5678}
    status, _ = await send(gw, "/v1/chat/completions", orjson.dumps(body))
    assert status == 200
    got = fake_upstream.received[-1].body
    assert (got["temperature"], got["top_p"], got["x"]) == (0.7, 0.95, 1234.5678)


# -- JSON the strict parser refuses must be refused on every path ------------------------------------------------

LONG = ',"n":1234567890123456789012'
"""A 22-digit integer: the body is read by the exact (standard library) parser instead of orjson."""
BAD_JSON = [
    b'{"model":"fake-model","messages":[{"role":"user","content":"hi \\ud800"}]' + LONG.encode() + b"}",
    b'{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"\\udfff":1' + LONG.encode() + b"}",
    b'{"model":"fake-model","messages":[{"role":"user","content":"hi \\ud800"}]}',
    b'\xef\xbb\xbf{"model":"fake-model","messages":[{"role":"user","content":"hi"}]' + LONG.encode() + b"}",
    ('{"model":"fake-model","messages":[{"role":"user","content":"4111 1111 1111 1111"}]' + LONG + "}").encode(
        "utf-16"
    ),
    b'{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"x":NaN' + LONG.encode() + b"}",
    b'{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"x":1e999' + LONG.encode() + b"}",
    b'{"model":"fake-model","messages":[{"role":"user","content":"\xff\xfe"}]' + LONG.encode() + b"}",
]


@pytest.mark.parametrize("data", BAD_JSON)
async def test_json_only_one_parser_accepts_is_a_400(
    gw: RunningGateway, fake_upstream: FakeUpstream, data: bytes
) -> None:
    status, body = await send(gw, "/v1/chat/completions", data)
    assert status == 400, body
    assert orjson.loads(body)["error"]["code"] == "invalid_json"
    assert fake_upstream.received == []


async def test_duplicate_keys_the_upstream_sees_what_was_inspected(
    gw: RunningGateway, fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The gateway re-serialises what it parsed: a duplicate key cannot smuggle the copy it did not inspect."""
    data = (
        b'{"model":"fake-model","messages":[{"role":"user","content":"4111111111111111"}],'
        b'"messages":[{"role":"user","content":"hi","content":"4111111111111111"}]}'
    )
    status, _ = await send(gw, "/v1/chat/completions", data)
    assert status == 200
    assert fake_upstream.received[-1].body["messages"][0]["content"] != CARD
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


# -- a value split between a key (or structural string) and its neighbour ----------------------------------------

STRUCTURE_SPLITS = [
    {"x": {"4111 1111": "1111 1111"}},
    {"x": {"4111 1111": {"1111 1111": 1}}},
    {"x": ["4111 1111", {"1111 1111": True}]},
    {"x": {"4111 1111 1111": 1111}},
    {"x": [{"id": "4111111111111"}, "111"]},
]


@pytest.mark.parametrize("extra", STRUCTURE_SPLITS)
async def test_a_value_split_across_a_key_and_its_neighbour_is_refused(
    gw: RunningGateway,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    extra: dict[str, Any],
) -> None:
    body = {"model": "fake-model", "messages": [HI], **extra}
    status, answer = await send(gw, "/v1/chat/completions", orjson.dumps(body))
    assert status == 400, answer
    assert fake_upstream.received == []
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


SPLIT_VALUES = [
    [
        {"role": "user", "content": "card 4111 1111"},
        {"role": "user", "content": "1111"},
        {"role": "user", "content": "1111"},
    ],
    [
        {"role": "user", "content": "4111"},
        {"role": "user", "content": "1111"},
        {"role": "user", "content": "1111"},
        {"role": "user", "content": "1111"},
    ],
    [
        {"role": "user", "content": "card 4111 1111"},
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": "1111 1111"}'}}
            ],
        },
    ],
]


@pytest.mark.parametrize("messages", SPLIT_VALUES)
async def test_a_value_split_across_texts_and_arguments_never_arrives(
    gw: RunningGateway,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    messages: list[dict[str, Any]],
) -> None:
    status, _ = await send(gw, "/v1/chat/completions", orjson.dumps({"model": "fake-model", "messages": messages}))
    assert status < 500
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


async def test_a_number_completing_a_card_in_a_text_is_masked(
    gw: RunningGateway, fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "card 4111 1111 1111"}], "x": 1111}
    status, _ = await send(gw, "/v1/chat/completions", orjson.dumps(body))
    assert status == 200
    assert fake_upstream.received[-1].body["x"] != 1111
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


# -- every field of every endpoint shape --------------------------------------------------------------------------

POSITIONS = [
    ("/v1/completions", {"model": "fake-model", "prompt": ["hi", "4111 1111 1111 1111"], "suffix": CARD}),
    ("/v1/completions", {"model": "fake-model", "prompt": "hi", "stop": [CARD], "logit_bias": {"50256": -100}}),
    ("/v1/embeddings", {"model": "fake-model", "input": ["4111 1111", "1111 1111"]}),
    ("/v1/embeddings", {"model": "fake-model", "input": "hi", "user": CARD}),
    (
        "/v1/responses",
        {
            "model": "fake-model",
            "input": [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": CARD}]}],
            "instructions": "4111-1111-1111-1111",
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "description": CARD,
                    "parameters": {"type": "object", "properties": {"a": {"type": "string", "default": CARD}}},
                }
            ],
        },
    ),
    ("/v1/responses", {"model": "fake-model", "input": "hi", "text": {"format": {"type": "text", "x": CARD}}}),
    (
        "/v1/chat/completions",
        {
            "model": "fake-model",
            "messages": [HI],
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "s",
                    "schema": {"type": "object", "properties": {"c": {"type": "string", "enum": [CARD]}}},
                },
            },
        },
    ),
    ("/v1/chat/completions", {"model": "fake-model", "messages": [HI], "metadata": {"id": CARD, "type": CARD}}),
    ("/v1/chat/completions", {"model": "fake-model", "messages": [HI], "max_tokens": CARD, "seed": -int(CARD)}),
    (
        "/api/chat",
        {
            "model": "ollama-model",
            "stream": False,
            "messages": [HI],
            "format": {"type": "object", "properties": {"c": {"type": "string", "description": CARD}}},
        },
    ),
    ("/api/chat", {"model": "ollama-model", "stream": False, "messages": [HI], "format": {CARD: {"type": "string"}}}),
    (
        "/api/generate",
        {
            "model": "ollama-model",
            "stream": False,
            "prompt": "hi",
            "system": CARD,
            "template": "{{ .Prompt }} " + CARD,
            "suffix": "4111 1111 1111 1111",
            "options": {"stop": [CARD]},
        },
    ),
    ("/api/generate", {"model": "fake-model", "stream": False, "prompt": "hi", "system": CARD, "suffix": CARD}),
    ("/api/embed", {"model": "ollama-model", "input": ["hi", CARD], "options": {"x": CARD}}),
    ("/api/chat", {"model": "fake-model", "stream": False, "messages": [{**HI, "images": [CARD]}]}),
]


@pytest.mark.parametrize(("path", "body"), POSITIONS)
async def test_values_in_every_position_of_every_shape(
    gw: RunningGateway,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    path: str,
    body: dict[str, Any],
) -> None:
    status, _ = await send(gw, path, orjson.dumps(body))
    assert status < 500
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


# -- what travels beside the body: headers, query strings, paths, methods, content types --------------------------

OK = orjson.dumps({"model": "fake-model", "messages": [HI]})
EDGES: list[tuple[str, str, dict[str, str]]] = [
    ("POST", "/v1/chat/completions?k=" + CARD, {}),
    ("POST", "/v1/chat/completions", {"X-Data-Classification": CARD}),
    ("POST", "/v1/chat/completions", {"X-Request-ID": CARD}),
    ("POST", "/v1/chat/completions", {"X-Request-ID": f"0190a6b2-4111-7111-8111-{CARD[:12]}"}),
    ("POST", "/v1/chat/completions", {"X-Card": CARD, "User-Agent": CARD, "Cookie": "a=" + CARD, "Referer": CARD}),
    ("POST", "/v1/chat/completions", {"Authorization": "Bearer " + CARD}),
    ("POST", "/v1//chat/completions", {}),
    ("POST", "/v1/chat/completions/", {}),
    ("POST", "/V1/Chat/Completions", {}),
    ("POST", "/v1/chat%2Fcompletions", {}),
    ("POST", "/v1/" + CARD, {}),
    ("PUT", "/v1/chat/completions", {}),
    ("PATCH", "/api/chat", {}),
    (CARD, "/v1/chat/completions", {}),
    ("POST", "/v1/chat/completions", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "/v1/chat/completions", {"Content-Type": "text/plain"}),
    ("POST", "/v1/chat/completions", {"Content-Type": "multipart/form-data; boundary=x"}),
    ("POST", "/v1/chat/completions", {"Transfer-Encoding": "chunked"}),
]


@pytest.mark.parametrize(("method", "path", "headers"), EDGES)
async def test_nothing_beside_the_body_is_forwarded_or_recorded(
    gw: RunningGateway,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    headers: dict[str, str],
) -> None:
    caplog.set_level(logging.DEBUG)
    status, _ = await send(gw, path, OK, method=method, headers=headers)
    assert status < 500
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))
    for record in await gw.records():
        assert CARD not in repr(record)


async def test_the_sdk_sees_its_own_headers_dropped(
    gw: RunningGateway, fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="unused", max_retries=0) as client:
        await client.chat.completions.create(
            model="fake-model",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Customer-Card": CARD},
            extra_query={"card": CARD},
            extra_body={"user": CARD},
        )
    await assert_nothing_raw(gw, fake_upstream, tmp_path, log_text(caplog))


# -- placeholders a caller sends itself ---------------------------------------------------------------------------


async def test_a_placeholder_sent_by_the_caller_restores_nothing(
    gw: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    """The vault holds only this request's values: a caller naming a placeholder gets no one else's value back."""
    fake_upstream.behaviour.reply = "you said <CREDIT_CARD_1> and <CREDIT_CARD_2>"
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "<CREDIT_CARD_1> <CREDIT_CARD_2>"}]}
    status, answer = await send(gw, "/v1/chat/completions", orjson.dumps(body))
    assert status == 200
    assert not card_digits_in(answer.decode())
