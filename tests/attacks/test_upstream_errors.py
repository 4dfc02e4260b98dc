"""Upstream errors are answers too: JSON and text/plain error bodies, compressed or not, and error headers are
inspected and masked before they reach the caller, and the upstream's status is kept.

A careless upstream echoes the prompt in its error ("invalid card 4111…"): the gateway relays the status, never
the raw value. 5xx statuses here are the upstream's own, relayed, so they are allowed; a gateway 500 is not.
"""

from __future__ import annotations

import gzip
import zlib

import openai
import orjson
import pytest

from tests.attacks.conftest import ATTACK_LOOP, OLLAMA_MODEL, OPENAI_MODEL, SSE_HEADERS, Attack, Script, chunk, sse
from tests.attacks.harness import GITHUB_TOKEN, SSN, VISA, expect

pytestmark = ATTACK_LOOP

CARD = VISA.raw
TOKEN = GITHUB_TOKEN.raw
JSON_ERROR = orjson.dumps({"error": {"message": f"invalid card {CARD} for user", "type": "invalid_request_error"}})
TEXT_ERROR = f"Bad request: card {CARD} rejected (key {TOKEN})".encode()

BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "json": (JSON_ERROR, {"Content-Type": "application/json"}),
    "json_in_key": (orjson.dumps({"error": {CARD: "bad"}}), {"Content-Type": "application/json"}),
    "json_param": (
        orjson.dumps({"error": {"message": "bad", "param": f"messages[0].content: {SSN.raw}"}}),
        {"Content-Type": "application/json"},
    ),
    "json_nested_detail": (
        orjson.dumps({"detail": [{"loc": ["body"], "input": f"card {CARD}"}]}),
        {"Content-Type": "application/json"},
    ),
    "text_plain": (TEXT_ERROR, {"Content-Type": "text/plain"}),
    "html": (f"<html><body><h1>400</h1><p>{CARD}</p></body></html>".encode(), {"Content-Type": "text/html"}),
    "no_content_type": (TEXT_ERROR, {}),
    "json_labelled_text": (JSON_ERROR, {"Content-Type": "text/plain"}),
    "gzip_json": (gzip.compress(JSON_ERROR), {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
    "deflate_text": (zlib.compress(TEXT_ERROR), {"Content-Type": "text/plain", "Content-Encoding": "deflate"}),
    "broken_json": (b'{"error": "card ' + CARD.encode() + b'", ', {"Content-Type": "application/json"}),
    "sse_error_body": (b"data: " + JSON_ERROR + b"\n\n", {"Content-Type": "text/event-stream"}),
}


@pytest.mark.parametrize("status", [400, 503])
@pytest.mark.parametrize("case", BODIES, ids=list(BODIES))
async def test_error_body_is_masked_and_status_kept(attack: Attack, case: str, status: int) -> None:
    body, headers = BODIES[case]
    attack.upstream.script = Script([body], status=status, headers=headers)
    reply = await attack.post(
        "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    )
    await attack.check([VISA, GITHUB_TOKEN, SSN], allowed_5xx=(status, 502))
    expect(reply.status in (status, 502), f"the upstream's {status} became {reply.status}")


HEADERS: dict[str, dict[str, str]] = {
    "content_type_parameter": {"Content-Type": f"application/json; note={CARD}"},
    "www_authenticate": {
        "Content-Type": "application/json",
        "WWW-Authenticate": f'Bearer error="invalid_token", token="{TOKEN}"',
    },
    "retry_after_garbage": {"Content-Type": "application/json", "Retry-After": CARD},
    "x_error_detail": {"Content-Type": "application/json", "X-Error-Detail": f"card {CARD}"},
    "location": {"Content-Type": "application/json", "Location": f"https://acme-corp.io/cards/{CARD}"},
}


@pytest.mark.parametrize("case", HEADERS, ids=list(HEADERS))
@pytest.mark.parametrize("status", [200, 401])
async def test_upstream_headers_carry_no_value_to_the_caller(attack: Attack, case: str, status: int) -> None:
    body = (
        JSON_ERROR.replace(CARD.encode(), b"x")
        if status != 200
        else orjson.dumps(
            {
                "id": "c",
                "object": "chat.completion",
                "created": 1,
                "model": OPENAI_MODEL,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
            }
        )
    )
    attack.upstream.script = Script([body], status=status, headers=HEADERS[case])
    await attack.post("/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    await attack.check([VISA, GITHUB_TOKEN], allowed_5xx=(502,))


@pytest.mark.parametrize("path", ["/v1/completions", "/v1/embeddings", "/v1/responses", "/api/chat", "/api/generate"])
async def test_error_bodies_of_every_endpoint(attack: Attack, path: str) -> None:
    attack.upstream.script = Script([JSON_ERROR], status=400)
    model = OLLAMA_MODEL if path.startswith("/api/") else OPENAI_MODEL
    body = {
        "model": model,
        "prompt": "hi",
        "input": "hi",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    reply = await attack.post(path, body)
    await attack.check([VISA], allowed_5xx=(502,))
    expect(reply.status in (400, 502), f"the upstream's 400 became {reply.status}")


async def test_ollama_endpoint_over_openai_upstream_error(attack: Attack) -> None:
    attack.upstream.script = Script([TEXT_ERROR], status=400, headers={"Content-Type": "text/plain"})
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    await attack.post("/api/chat", body)
    await attack.check([VISA, GITHUB_TOKEN], allowed_5xx=(502,))


@pytest.mark.parametrize("where", ["first_event", "after_content"])
async def test_error_event_mid_stream(attack: Attack, where: str) -> None:
    error = {"error": {"message": f"upstream crashed on {CARD}", "type": "server_error"}}
    events = [error] if where == "first_event" else [chunk("hello "), error]
    attack.upstream.script = Script(sse(*events), headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA], allowed_5xx=(502,))


@pytest.mark.parametrize("status", [400, 500])
async def test_error_through_the_openai_sdk(attack: Attack, status: int) -> None:
    attack.upstream.script = Script([JSON_ERROR], status=status)
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            await sdk.chat.completions.create(model=OPENAI_MODEL, messages=[{"role": "user", "content": "hi"}])
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], allowed_5xx=(status, 502))
