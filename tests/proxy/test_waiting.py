"""Streaming callers that wait for approval: SSE comment keep-alives on the wire (read raw with aiohttp), then the
model's events in the same response, or one error event; and the official ``openai`` SDK reading it all."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import openai
import orjson
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.app import SIGNALS
from clearance.approvals.lifecycle import deny
from clearance.exceptions import ApprovalDenied
from clearance.proxy.approval_gate import WAIT_HEADER
from clearance.proxy.waiting import comment, error_event
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory
from tests.proxy.test_approval_gate import SECURITY, TOKEN, Setup, make_setup, until_waiting

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": f"why does {TOKEN} fail?"}]
BOUND = 10.0


def test_when_a_waiter_is_kept_alive_then_the_line_is_an_sse_comment_naming_the_approval() -> None:
    assert comment("apr_x") == b": waiting for approval apr_x\n\n"


def test_when_a_stream_ends_with_a_refusal_then_one_data_event_in_the_openai_error_shape() -> None:
    event = error_event(ApprovalDenied("approval apr_x was denied"))

    assert event.startswith(b"data: ") and event.endswith(b"\n\n")
    assert orjson.loads(event[6:]) == {
        "error": {"message": "approval apr_x was denied", "type": "permission_error", "code": "approval_denied"}
    }


@pytest.fixture
async def kept_alive(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Setup]:
    async for made in make_setup(make_gateway, fake_upstream, tmp_path, poll_interval=0.05, keepalive_interval=0.02):
        yield made


async def test_when_a_streaming_caller_waits_then_comments_arrive_before_the_models_events(
    kept_alive: Setup, fake_upstream: FakeUpstream
) -> None:
    s = kept_alive
    body = {"model": "llama-internal", "messages": MESSAGES, "stream": True}
    headers = {"Authorization": f"Bearer {s.eve}", WAIT_HEADER: "30"}
    async with (
        asyncio.timeout(BOUND),
        aiohttp.ClientSession() as session,
        session.post(f"{s.gw.base_url}/chat/completions", json=body, headers=headers) as response,
    ):
        assert (response.status, response.content_type) == (200, "text/event-stream")
        lines: list[bytes] = []
        for _ in range(1000):  # bounded: read until two keep-alives came
            lines.append(await response.content.readline())
            if sum(line.startswith(b": waiting for approval") for line in lines) >= 2:
                break
        approval = await until_waiting(s)
        s.approve(approval.id)
        lines += [line async for line in response.content]

    data = [i for i, line in enumerate(lines) if line.startswith(b"data: ")]
    comments = [i for i, line in enumerate(lines) if line.startswith(b": waiting")]
    assert len(comments) >= 2 and max(comments) < min(data)
    assert lines[data[-1] - 2].startswith(b": X-Clearance-Record: key=")  # the receipt, just before the end
    assert lines[comments[0]] == f": waiting for approval {approval.id}\n".encode()
    assert lines[data[-1]] == b"data: [DONE]\n"
    assert "".join(
        orjson.loads(lines[i][6:])["choices"][0]["delta"].get("content") or ""
        for i in data[:-1]
        if orjson.loads(lines[i][6:])["choices"]
    )
    assert len(fake_upstream.received) == 1
    assert s.store.get(approval.id).state == "used"


async def test_when_the_sdk_streams_while_waiting_then_it_skips_the_comments_and_reads_the_answer(
    kept_alive: Setup,
) -> None:
    s = kept_alive
    async with asyncio.timeout(BOUND), s.client(s.eve) as client:
        # the call returns once the headers came: sent with the first keep-alive, while the approval is pending
        stream = await client.chat.completions.create(
            model="llama-internal", messages=MESSAGES, stream=True, extra_headers={WAIT_HEADER: "30"}
        )
        approval = await until_waiting(s)
        s.approve(approval.id)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

    assert text
    assert s.store.get(approval.id).state == "used"


async def test_when_denied_after_the_stream_started_then_one_error_event_ends_it_and_the_record_keeps_the_code(
    kept_alive: Setup, fake_upstream: FakeUpstream
) -> None:
    s = kept_alive
    async with asyncio.timeout(BOUND), s.client(s.eve) as client:
        stream = await client.chat.completions.create(
            model="llama-internal", messages=MESSAGES, stream=True, extra_headers={WAIT_HEADER: "30"}
        )
        approval = await until_waiting(s)
        s.store.apply(approval.id, lambda a: deny(a, SECURITY, "no", now=s.clock()))
        with pytest.raises(openai.APIError) as info:
            async for _ in stream:
                pass

    assert info.value.code == "approval_denied"
    assert fake_upstream.received == []
    [record] = await s.gw.records()
    assert (record["status"], record["error_code"], record["approval_id"]) == (200, "approval_denied", approval.id)


async def deny_when_waiting(s: Setup) -> None:
    approval = await until_waiting(s)
    s.store.apply(approval.id, lambda a: deny(a, SECURITY, "no", now=s.clock()))


async def refused_stream(s: Setup) -> openai.PermissionDeniedError:
    async with s.client(s.eve) as client:
        with pytest.raises(openai.PermissionDeniedError) as info:
            await client.chat.completions.create(
                model="llama-internal", messages=MESSAGES, stream=True, extra_headers={WAIT_HEADER: "30"}
            )
        return info.value


async def test_when_decided_before_the_first_keepalive_then_the_caller_gets_an_ordinary_status(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, poll_interval=0.05, keepalive_interval=60):
        error, _ = await asyncio.wait_for(asyncio.gather(refused_stream(s), deny_when_waiting(s)), BOUND)

        assert (error.status_code, error.code) == (403, "approval_denied")


async def test_when_the_upstream_fails_after_a_waiting_stream_started_then_one_error_event_says_so(
    kept_alive: Setup, fake_upstream: FakeUpstream
) -> None:
    s = kept_alive
    fake_upstream.behaviour.error_status = 503
    async with asyncio.timeout(BOUND), s.client(s.eve) as client:
        stream = await client.chat.completions.create(
            model="llama-internal", messages=MESSAGES, stream=True, extra_headers={WAIT_HEADER: "30"}
        )
        approval = await until_waiting(s)
        s.approve(approval.id)
        with pytest.raises(openai.APIError) as info:
            async for _ in stream:
                pass

    assert info.value.code == "upstream_http_503"
    [record] = await s.gw.records()
    assert (record["status"], record["error_code"]) == (200, "upstream_http_503")


async def test_when_an_ollama_stream_waits_then_nothing_is_sent_until_the_decision(
    kept_alive: Setup, fake_upstream: FakeUpstream
) -> None:
    s = kept_alive
    body = {"model": "llama-internal", "messages": MESSAGES, "stream": True}
    headers = {"Authorization": f"Bearer {s.eve}", WAIT_HEADER: "30"}
    async with asyncio.timeout(BOUND), aiohttp.ClientSession() as session:

        async def post() -> tuple[int, str, bytes]:
            async with session.post(f"{s.gw.url}/api/chat", json=body, headers=headers) as response:
                return response.status, response.content_type, await response.read()

        async def approver() -> None:
            approval = await until_waiting(s)
            # the behaviour under test is what happens while time passes: five keep-alive intervals, and an
            # NDJSON caller gets nothing in them (a comment line would break its parser)
            await asyncio.sleep(0.1)
            s.approve(approval.id)

        (status, content_type, raw), _ = await asyncio.gather(post(), approver())

    assert (status, content_type) == (200, "application/x-ndjson")
    lines = [orjson.loads(line) for line in raw.splitlines()]
    assert lines and all(isinstance(line, dict) for line in lines)
    assert lines[-1]["done"] is True


async def test_when_nobody_decides_while_a_stream_waits_then_its_error_event_is_approval_required_naming_the_id(
    kept_alive: Setup, fake_upstream: FakeUpstream
) -> None:
    s = kept_alive
    async with asyncio.timeout(BOUND), s.client(s.eve) as client:
        stream = await client.chat.completions.create(
            model="llama-internal", messages=MESSAGES, stream=True, extra_headers={WAIT_HEADER: "0.2"}
        )
        with pytest.raises(openai.APIError) as info:
            async for _ in stream:
                pass

    [approval] = s.store.list()
    assert (info.value.code, approval.state) == ("approval_required", "pending")
    assert approval.id in info.value.message
    assert fake_upstream.received == []


@pytest.fixture
async def slow_polling(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> AsyncIterator[Setup]:
    """Waiters read the store only every 30 s: a wait that ends sooner was woken."""
    async for made in make_setup(make_gateway, fake_upstream, tmp_path, poll_interval=30, keepalive_interval=0.02):
        yield made


async def test_when_the_gateway_stops_then_waiting_callers_get_a_retryable_503_and_their_approvals_stay_pending(
    slow_polling: Setup, tmp_path: Path
) -> None:
    s = slow_polling
    headers = {"Authorization": f"Bearer {s.eve}", WAIT_HEADER: "300"}
    async with asyncio.timeout(BOUND), aiohttp.ClientSession() as session, asyncio.TaskGroup() as group:
        kept_alive = asyncio.Event()

        async def post(stream: bool) -> tuple[int, dict[str, str], bytes]:
            body = {"model": "llama-internal", "messages": MESSAGES, "stream": stream}
            async with session.post(f"{s.gw.base_url}/chat/completions", json=body, headers=headers) as response:
                if stream:  # its headers and a first keep-alive comment came
                    first = await response.content.readline()
                    kept_alive.set()
                    return response.status, dict(response.headers), first + await response.read()
                return response.status, dict(response.headers), await response.read()

        streamed = group.create_task(post(True))
        whole = group.create_task(post(False))
        await kept_alive.wait()
        for _ in range(int(BOUND / 0.005)):  # until both wait
            if s.gw.app[SIGNALS].waiting >= 2:
                break
            await asyncio.sleep(0.005)
        await s.gw.server.close()  # aiohttp's shutdown, as the drain runs it: on_shutdown ends the waits
        stream_status, _, stream_raw = await streamed
        status, whole_headers, whole_raw = await whole

    pending = {a.id for a in s.store.list(state="pending")}
    assert len(pending) == 2  # nothing decided, nothing lost: each caller sends its request again with its id
    error = orjson.loads(whole_raw)["error"]
    assert (status, error["code"], whole_headers["Retry-After"]) == (503, "gateway_draining", "1")
    assert any(f"X-Clearance-Approval: {a}" in error["message"] for a in pending)
    assert stream_status == 200  # the stream had started (keep-alive comments): it ends with one error event
    [event] = [line for line in stream_raw.splitlines() if line.startswith(b"data: ")]
    assert orjson.loads(event[6:])["error"]["code"] == "gateway_draining"
    with sqlite3.connect(tmp_path / "audit.db") as db:
        rows = db.execute("SELECT error_code, approval_id FROM audit_records").fetchall()
    assert sorted(code for code, _ in rows) == ["gateway_draining", "gateway_draining"]
    assert {approval for _, approval in rows} == pending
