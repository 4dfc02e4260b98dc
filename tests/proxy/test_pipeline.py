"""The pipeline answers bad upstream answers with a precise error, never a 500 or an empty 200, and records what
the caller got."""

from __future__ import annotations

import gzip
import logging
from collections import Counter
from typing import Any, NoReturn

import aiohttp
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.app import PIPELINE
from clearance.audit.leaf import record_leaf_hash
from clearance.observability.logging import JsonFormatter
from clearance.payload import extract
from clearance.proxy import json_codec, pipeline
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway
from tests.proxy.scripted import Answer, ScriptedUpstream, scripted_upstream

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CHAT = {"model": "m", "messages": MESSAGES}
CHAT_ANSWER = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}]}


async def gateway_for(make_gateway: GatewayFactory, upstream: ScriptedUpstream) -> RunningGateway:
    return await make_gateway([{"name": "up", "base_url": upstream.base_url, "models": ["m"]}])


async def post(gw: RunningGateway, path: str, body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as s, s.post(gw.url + path, json=body) as r:
        return r.status, await r.read(), dict(r.headers)


def error_code(body: bytes) -> str:
    code: str = orjson.loads(body)["error"]["code"]
    return code


# -- whole answers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Answer(200, b"[" * 100 + b"]" * 100), id="nested-past-the-limit"),
        pytest.param(Answer(200, b'{"a":' * 2000 + b"1" + b"}" * 2000), id="nested-past-orjson"),
        pytest.param(Answer(200, b"not json", {"Content-Type": "text/plain"}), id="not-json"),
        pytest.param(Answer(200, b"", {}), id="empty"),
        pytest.param(
            Answer(200, orjson.dumps(CHAT_ANSWER), {"Content-Type": "application/json", "Content-Encoding": "x-odd"}),
            id="unknown-encoding",
        ),
        pytest.param(
            Answer(200, b"\x1f\x8b\x08\x00broken", {"Content-Type": "application/json", "Content-Encoding": "gzip"}),
            id="broken-gzip",
        ),
    ],
)
async def test_an_answer_that_cannot_be_read_is_502_and_recorded(make_gateway: GatewayFactory, answer: Answer) -> None:
    async with scripted_upstream(answer) as up:
        gw = await gateway_for(make_gateway, up)
        status, body, _ = await post(gw, "/v1/chat/completions", CHAT)
    assert (status, error_code(body)) == (502, "upstream_protocol_error")
    [record] = await gw.records()
    assert (record["status"], record["error_code"]) == (502, "upstream_protocol_error")


async def test_a_compressed_answer_is_read_as_decoded(make_gateway: GatewayFactory) -> None:
    card = "4111 1111 1111 1111"
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"card {card}"}}]}
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    async with scripted_upstream(Answer(200, gzip.compress(orjson.dumps(answer)), headers)) as up:
        gw = await gateway_for(make_gateway, up)
        status, body, _ = await post(gw, "/v1/chat/completions", CHAT)
    assert status == 200
    content = orjson.loads(body)["choices"][0]["message"]["content"]
    assert content.startswith("card ") and card not in content


async def test_an_answer_with_a_huge_integer_is_relayed_exactly(make_gateway: GatewayFactory) -> None:
    raw = orjson.dumps(CHAT_ANSWER)[:-1] + b',"usage":{"total_tokens":123456789012345678901234567890}}'
    async with scripted_upstream(Answer(200, raw)) as up:
        gw = await gateway_for(make_gateway, up)
        status, body, _ = await post(gw, "/v1/chat/completions", CHAT)
    assert status == 200
    assert b'"total_tokens":123456789012345678901234567890' in body


@pytest.mark.parametrize(
    "answer",
    [
        {"choices": ["odd"]},
        {"choices": [{"message": {"content": 5}}]},
        {"choices": [{"message": {"content": "x", "tool_calls": [{"function": {"arguments": 1.5}}]}}]},
        {"choices": [{"text": "x"}], "usage": {"prompt_tokens": "many"}},
    ],
)
async def test_odd_shapes_for_ollama_translation_are_502(make_gateway: GatewayFactory, answer: dict[str, Any]) -> None:
    async with scripted_upstream(Answer(200, orjson.dumps(answer))) as up:
        gw = await gateway_for(make_gateway, up)
        status, body, _ = await post(gw, "/api/chat", {**CHAT, "stream": False})
    assert (status, error_code(body)) == (502, "upstream_protocol_error")
    [record] = await gw.records()
    assert record["status"] == 502


# -- redirects ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("same_origin", [True, False], ids=["same-origin", "other-origin"])
async def test_upstream_redirects_are_not_followed(
    make_gateway: GatewayFactory, status: int, same_origin: bool
) -> None:
    async with scripted_upstream() as elsewhere:
        async with scripted_upstream() as up:
            target = (up.root if same_origin else elsewhere.root) + "/elsewhere"
            up.answer = Answer(status, b"", {"Location": target})
            gw = await gateway_for(make_gateway, up)
            got, body, headers = await post(gw, "/v1/chat/completions", CHAT)
        assert elsewhere.received == []
        assert all("redirected_to" not in r for r in up.received)
    assert (got, error_code(body)) == (502, "upstream_protocol_error")
    assert "Location" not in headers
    assert b"elsewhere" not in body
    [record] = await gw.records()
    assert record["status"] == 502


# -- streams --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(Answer(200, b"plain text", {"Content-Type": "text/plain"}), id="text-plain"),
        pytest.param(Answer(200, orjson.dumps(CHAT_ANSWER)), id="json"),
        pytest.param(Answer(200, b"", {}), id="empty-untyped"),
    ],
)
async def test_a_stream_request_answered_with_no_stream_is_an_error(
    make_gateway: GatewayFactory, answer: Answer
) -> None:
    async with scripted_upstream(answer) as up:
        gw = await gateway_for(make_gateway, up)
        status, body, _ = await post(gw, "/v1/chat/completions", {**CHAT, "stream": True})
    assert (status, error_code(body)) == (502, "upstream_protocol_error")
    [record] = await gw.records()
    assert (record["status"], record["error_code"]) == (502, "upstream_protocol_error")


@pytest.mark.parametrize("body", [b"", b"\n\n", b": just a comment\n\n", b"garbage without framing"])
async def test_an_empty_event_stream_ends_with_an_error_event(make_gateway: GatewayFactory, body: bytes) -> None:
    async with scripted_upstream(Answer(200, body, {"Content-Type": "text/event-stream"})) as up:
        gw = await gateway_for(make_gateway, up)
        async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
            stream = await sdk.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            with pytest.raises(openai.APIError, match="without any event"):
                async for _ in stream:
                    pass
    [record] = await gw.records()
    # the caller got a 200 and then an error event: the record says both
    assert (record["status"], record["error_code"]) == (200, "upstream_protocol_error")


async def test_an_empty_ndjson_stream_ends_with_an_error_line(make_gateway: GatewayFactory) -> None:
    async with scripted_upstream(Answer(200, b"", {"Content-Type": "application/x-ndjson"})) as up:
        gw = await make_gateway([{"name": "up", "base_url": up.root, "kind": "ollama", "models": ["m"]}])
        status, body, _ = await post(gw, "/api/chat", CHAT)
    assert status == 200
    assert orjson.loads(body.splitlines()[-1])["code"] == "upstream_protocol_error"


async def test_a_failure_mid_stream_is_recorded_with_the_status_the_caller_got(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.disconnect_after_events = 2
    async with (
        aiohttp.ClientSession() as s,
        s.post(gateway.url + "/v1/chat/completions", json={**CHAT, "model": "fake-model", "stream": True}) as r,
    ):
        assert r.status == 200
        await r.read()
    [record] = await gateway.records()
    assert record["status"] == 200
    assert record["error_code"] is not None


# -- bugs -----------------------------------------------------------------------------------------------------


async def test_an_unexpected_failure_is_a_500_in_the_openai_format_and_recorded(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom with 4111 1111 1111 1111 inside")

    monkeypatch.setattr(gateway.app[PIPELINE], "_inspect", broken)
    caplog.set_level(logging.DEBUG)
    status, body, headers = await post(gateway, "/v1/chat/completions", {**CHAT, "model": "fake-model"})
    assert status == 500
    error = orjson.loads(body)["error"]
    assert (error["code"], error["type"]) == ("internal_error", "server_error")
    assert b"4111" not in body and b"boom" not in body
    assert headers["X-Request-ID"]
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (500, "internal_error")
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    assert "4111" not in logged
    assert '"error":"RuntimeError"' in logged


async def test_a_failing_side_route_is_a_500_in_the_openai_format(
    gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> bool:
        raise RuntimeError("store exploded")

    monkeypatch.setattr(gateway.audit, "writable", broken)
    async with aiohttp.ClientSession() as s, s.get(gateway.url + "/readyz") as r:
        assert r.status == 500
        body = await r.read()
    assert error_code(body) == "internal_error"
    assert b"exploded" not in body


# -- how often a request body is walked ----------------------------------------------------------------------

WALKED_BODY = {
    "model": "fake-model",
    "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "my card 4111 1111 1111 1111"}],
    "metadata": {"team": "a"},
}


async def test_when_a_request_is_masked_then_its_body_is_walked_once(
    gateway: RunningGateway, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Walks of the whole body (depth check, validation, leaf walk, rewrite) and node visits, counted for one
    request: parsed, walked once (depth checked on the way), validated, and rewritten only along the path to the
    one value masked (root, messages, the message, its content)."""
    passes: Counter[str] = Counter()
    visits: Counter[str] = Counter()

    def counted(name: str, module: Any, attr: str, body_at: int) -> None:
        original = getattr(module, attr)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            visits[name] += 1
            if args[body_at] == WALKED_BODY:  # the whole body (no part of it equals it)
                passes[name] += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, attr, wrapper)

    counted("depth check", json_codec, "depth_exceeds", 0)
    counted("validation", pipeline, "validate_request", 1)
    counted("leaf walk", extract, "_walk", 0)
    counted("rewrite", extract, "_rewrite", 0)
    counted("rewrite at paths", extract, "_rewrite_at", 0)
    status, _body, _headers = await post(gateway, "/v1/chat/completions", WALKED_BODY)
    assert status == 200
    assert "4111 1111 1111 1111" not in fake_upstream.all_text_received()
    assert passes == {"leaf walk": 1, "validation": 1, "rewrite at paths": 1}
    assert visits["rewrite at paths"] == 4


# -- the session record -----------------------------------------------------------------------------------------

RECORD_POLICY = """
version: 1
models:
  - name: fake-model
    max_level: restricted
defaults:
  unknown_identity: allow
  unknown_identity_level: confidential
  record: MODE
"""
"""Anonymous callers are cleared for confidential data: e-mails reach the model in clear, cards are masked."""
CARD = "4111 1111 1111 1111"
EMAIL = "jane.roe@corp-mail.io"


async def recording_gateway(
    make_gateway: GatewayFactory, upstream: FakeUpstream, tmp_path: Any, mode: str, **audit: Any
) -> RunningGateway:
    policy = tmp_path / "policy.yaml"
    policy.write_text(RECORD_POLICY.replace("MODE", mode))
    return await make_gateway(
        [{"name": "fake", "base_url": upstream.base_url, "models": ["fake-model"]}],
        policy={"file": str(policy)},
        server={"instance_id": "gw-test"},
        audit=audit,
    )


async def chat(gw: RunningGateway, content: str, *, stream: bool = False) -> str:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": content}]
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="unused", max_retries=0) as client:
        if stream:
            chunks = await client.chat.completions.create(model="fake-model", messages=messages, stream=True)
            return "".join([c.choices[0].delta.content or "" async for c in chunks if c.choices])
        answer = await client.chat.completions.create(model="fake-model", messages=messages)
        return answer.choices[0].message.content or ""


async def test_when_an_answer_is_recorded_masked_then_the_record_holds_the_forwarded_request_and_the_answer(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Any
) -> None:
    gw = await recording_gateway(make_gateway, fake_upstream, tmp_path, "masked")
    answer = await chat(gw, f"card {CARD}, mail {EMAIL}")
    [record] = await gw.records()

    forwarded = fake_upstream.received[-1].body
    sent = forwarded["messages"][0]["content"]
    assert sent == f"card XXXX XXXX XXXX 1111, mail {EMAIL}"  # the e-mail is within the caller's clearance
    assert orjson.loads(record["request_text"]) == {
        **forwarded,
        "messages": [{"role": "user", "content": "card XXXX XXXX XXXX 1111, mail [EMAIL_ADDRESS]"}],
    }  # as forwarded, and what went in clear redacted
    assert orjson.loads(record["response_text"])["choices"][0]["message"]["content"] == answer
    assert not record["truncated"] and record["stream"] is False and record["ttft_ms"] is None
    assert [(p["type"], p["path"], sent[p["start"] : p["end"]]) for p in record["positions"]] == [
        ("CREDIT_CARD", ["messages", 0, "content"], "XXXX XXXX XXXX 1111"),
        ("EMAIL_ADDRESS", ["messages", 0, "content"], EMAIL),
    ]
    assert (record["instance"], record["auth_method"], record["groups"], record["key_id"]) == (
        "gw-test", "anonymous", None, None,
    )  # fmt: skip
    assert record["user_agent"].startswith("AsyncOpenAI/Python")
    assert len(record["policy_version"]) == 64 and record["detector_version"] == gw.config.detection.version


async def test_when_a_stream_is_recorded_in_full_then_its_events_are_assembled_and_its_first_token_timed(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Any
) -> None:
    fake_upstream.behaviour.pieces = ["Your card ", "4111 1111 ", "1111 1111", " is noted."]
    gw = await recording_gateway(make_gateway, fake_upstream, tmp_path, "full")
    answer = await chat(gw, "hello", stream=True)
    [record] = await gw.records()

    assert answer == "Your card XXXX XXXX XXXX 1111 is noted."  # the caller's, masked by the plan
    assert orjson.loads(record["response_text"]) == {"content": "Your card [CREDIT_CARD] is noted."}
    assert record["stream"] is True and not record["truncated"]
    assert record["ttft_ms"] is not None and 0 < record["ttft_ms"] <= record["latency_ms"]
    assert orjson.loads(record["request_text"])["messages"] == [{"role": "user", "content": "hello"}]


async def test_when_the_mode_is_metadata_then_the_record_keeps_no_text_but_the_positions(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Any
) -> None:
    gw = await recording_gateway(make_gateway, fake_upstream, tmp_path, "metadata")
    await chat(gw, f"card {CARD}")
    await chat(gw, f"card {CARD}", stream=True)
    records = await gw.records()

    assert [(r["request_text"], r["response_text"], r["truncated"]) for r in records] == [(None, None, False)] * 2
    assert all(r["positions"][0]["type"] == "CREDIT_CARD" for r in records)
    assert [r["ttft_ms"] is not None for r in records] == [True, False]  # newest first: the stream


async def test_when_a_request_is_longer_than_the_records_limit_then_it_is_cut_and_flagged(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Any
) -> None:
    gw = await recording_gateway(make_gateway, fake_upstream, tmp_path, "full", max_text_bytes=1024)
    await chat(gw, f"card {CARD} " + "word " * 1000)
    [record] = await gw.records()
    assert record["truncated"] and len(record["request_text"].encode()) == 1024
    assert "XXXX XXXX XXXX 1111" in record["request_text"]
    assert orjson.loads(record["response_text"])["object"] == "chat.completion"  # the answer fits: whole


async def test_when_a_model_is_asked_by_its_alias_then_the_record_keeps_both_names_and_the_callers_kind(
    gateway: RunningGateway,
) -> None:
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="unused", max_retries=0) as client:
        await client.chat.completions.create(model="fm", messages=MESSAGES)

    [record] = await gateway.records()

    assert (record["model"], record["policy_model"]) == ("fm", "fake-model")
    assert (record["identity_kind"], record["auth_method"]) == ("anonymous", "anonymous")


def _failing(*_args: object, **_options: object) -> NoReturn:
    raise OSError("the database is gone")


async def test_when_the_store_is_down_and_the_spool_full_then_requests_get_503_audit_unavailable_until_it_is_back(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gateway = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": [{"name": "fake-model"}]}],
        audit={"spool": {"max_bytes": 4096}},
    )
    store = gateway.audit
    real_insert, real_heartbeat = store._insert, store._heartbeat
    store._insert = _failing  # type: ignore[method-assign]
    store._heartbeat = _failing  # type: ignore[method-assign]
    store._retry_s = 0  # the store is tried again at every batch
    chat = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
    statuses: list[int] = []
    async with aiohttp.ClientSession() as session:
        for _ in range(60):  # 4 KiB of spool holds a few records; the answer that does not fit is withheld
            async with session.post(gateway.base_url + "/chat/completions", json=chat) as response:
                statuses.append(response.status)
                body = await response.json()
            if response.status == 503:
                assert body["error"]["code"] == "audit_unavailable"
                break
        assert statuses[0] == 200 and statuses[-1] == 503
        async with session.post(gateway.base_url + "/chat/completions", json={**chat, "stream": True}) as response:
            assert response.status == 503  # refused before it is forwarded
            assert (await response.json())["error"]["code"] == "audit_unavailable"
        async with session.get(gateway.url + "/readyz") as response:
            assert response.status == 503
        store._insert, store._heartbeat = real_insert, real_heartbeat  # type: ignore[method-assign]
        async with session.post(gateway.base_url + "/chat/completions", json=chat) as response:
            assert response.status == 503  # its record, written, replays the spool first
        await store.drained()
        async with session.post(gateway.base_url + "/chat/completions", json=chat) as response:
            assert response.status == 200
        async with session.get(gateway.url + "/readyz") as response:
            assert response.status == 200
    served = statuses.count(200)
    assert served == len(statuses) - 1
    assert [r["status"] for r in await gateway.records()].count(200) >= served + 1  # every answer served is kept


async def test_when_an_answer_is_whole_or_streamed_then_it_carries_the_receipt_of_its_stored_record(
    gateway: RunningGateway,
) -> None:
    chat = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as session:
        async with session.post(gateway.base_url + "/chat/completions", json=chat) as response:
            assert response.status == 200
            whole = response.headers["X-Clearance-Record"]
            whole_id = response.headers["X-Request-ID"]
        async with session.post(gateway.base_url + "/chat/completions", json={**chat, "stream": True}) as response:
            text = await response.text()
            stream_id = response.headers["X-Request-ID"]
    comment = [line for line in text.splitlines() if line.startswith(": X-Clearance-Record: ")]
    assert len(comment) == 1
    assert text.index(comment[0]) < text.index("data: [DONE]")
    receipts = {whole_id: whole, stream_id: comment[0].removeprefix(": X-Clearance-Record: ")}
    rows = {row["request_id"]: row for row in await gateway.records()}
    for request_id, receipt in receipts.items():
        row = rows[request_id]
        assert receipt == f"key={row['spool_key']}; leaf={record_leaf_hash(row).hex()}"
