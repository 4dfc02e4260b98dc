"""Every way a request can go wrong gets a precise status in the OpenAI error shape, and an audit record."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]
CHAT = {"model": "fake-model", "messages": MESSAGES}


async def post(gateway: RunningGateway, path: str, data: bytes | Any, **kw: Any) -> tuple[int, Any, dict[str, str]]:
    async with aiohttp.ClientSession() as session:
        js = data if isinstance(data, dict | list) else None
        body = None if js is not None else data
        async with session.post(gateway.url + path, data=body, json=js, **kw) as r:
            return r.status, await r.json(content_type=None), dict(r.headers)


def assert_openai_error(body: Any, code: str) -> None:
    assert set(body) == {"error"}
    assert {"message", "type", "code"} <= set(body["error"])
    assert body["error"]["code"] == code
    assert body["error"]["message"]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_request"),
        ({"model": "fake-model"}, 400, "invalid_request"),
        ({"model": 7, "messages": [{"role": "user", "content": "x"}]}, 400, "invalid_request"),
        ({**CHAT, "stream": "yes"}, 400, "invalid_request"),
        ({**CHAT, "messages": [{"content": "no role"}]}, 400, "invalid_request"),
        ({**CHAT, "model": "no-such-model"}, 404, "model_not_found"),
    ],
)
async def test_when_request_is_bad_then_precise_4xx_and_audit(
    gateway: RunningGateway, fake_upstream: FakeUpstream, payload: Any, status: int, code: str
) -> None:
    got, body, headers = await post(gateway, "/v1/chat/completions", payload)
    assert got == status
    assert_openai_error(body, code)
    assert headers["X-Request-ID"]
    assert fake_upstream.received == []  # nothing bad is forwarded
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (status, code)


async def test_wrong_field_is_named_in_the_error(gateway: RunningGateway) -> None:
    _, body, _ = await post(gateway, "/v1/chat/completions", {**CHAT, "messages": [{"content": "x"}]})
    assert "messages.0.role" in body["error"]["message"]
    assert body["error"]["param"] == "messages.0.role"


async def test_when_body_is_too_large_then_413(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> None:
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        server={"max_body_bytes": 1000},
    )
    big = {**CHAT, "messages": [{"role": "user", "content": "x" * 5000}]}
    status, body, _ = await post(gw, "/v1/chat/completions", big)
    assert status == 413
    assert_openai_error(body, "payload_too_large")

    # chunked upload (no Content-Length) is limited too
    async def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 500

    status, body, _ = await post(gw, "/v1/chat/completions", chunks())
    assert status == 413
    assert fake_upstream.received == []
    assert [r["status"] for r in await gw.records()] == [413, 413]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nope", 404),
        ("POST", "/v1/files", 404),
        ("GET", "/v1/chat/completions", 405),
        ("DELETE", "/api/tags", 405),
        ("GET", "/", 404),
    ],
)
async def test_unknown_routes_never_reach_the_upstream(
    gateway: RunningGateway, fake_upstream: FakeUpstream, method: str, path: str, status: int
) -> None:
    async with aiohttp.ClientSession() as s, s.request(method, gateway.url + path) as r:
        assert r.status == status
        assert_openai_error(await r.json(), "unknown_route" if status == 404 else "method_not_allowed")
    assert fake_upstream.received == []
    assert [r["status"] for r in await gateway.records()] == [status]


async def test_when_upstream_is_down_then_502(make_gateway: GatewayFactory) -> None:
    async with FakeUpstream() as gone:
        url = gone.base_url
    gw = await make_gateway([{"name": "gone", "base_url": url, "models": ["m"]}])
    status, body, _ = await post(gw, "/v1/chat/completions", {**CHAT, "model": "m"})
    assert status == 502
    assert_openai_error(body, "upstream_unreachable")
    assert "'gone'" in body["error"]["message"]
    [record] = await gw.records()
    assert record["error_code"] == "upstream_unreachable"


async def test_when_upstream_is_slow_then_504(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> None:
    fake_upstream.behaviour.first_byte_delay_s = 2.0
    gw = await make_gateway(
        [
            {
                "name": "slow",
                "base_url": fake_upstream.base_url,
                "models": ["fake-model"],
                "timeouts": {"first_byte": 0.2},
            }
        ]
    )
    status, body, _ = await post(gw, "/v1/chat/completions", CHAT)
    assert status == 504
    assert_openai_error(body, "upstream_timeout")


async def test_when_stream_goes_idle_then_error_event(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.event_delay_s = 1.0
    gw = await make_gateway(
        [{"name": "slow", "base_url": fake_upstream.base_url, "models": ["fake-model"], "timeouts": {"idle": 0.2}}]
    )
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIError, match="did not answer in time"):
            async for _ in stream:
                pass
    [record] = await gw.records()
    assert record["error_code"] == "upstream_timeout"


async def test_slow_but_steady_stream_is_relayed(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> None:
    fake_upstream.behaviour.event_delay_s = 0.05
    gw = await make_gateway(
        [{"name": "slow", "base_url": fake_upstream.base_url, "models": ["fake-model"], "timeouts": {"idle": 1}}]
    )
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(model="fake-model", messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == fake_upstream.behaviour.reply


@pytest.mark.parametrize("status", [400, 422, 429, 500, 503])
async def test_upstream_error_status_and_body_are_relayed(
    gateway: RunningGateway, fake_upstream: FakeUpstream, status: int
) -> None:
    fake_upstream.behaviour.error_status = status
    got, body, _ = await post(gateway, "/v1/chat/completions", CHAT)
    assert got == status
    assert body == {"error": {"message": "upstream says no", "type": "invalid_request_error"}}
    [record] = await gateway.records()
    assert record["status"] == status


async def test_upstream_disconnect_mid_stream_ends_with_error_event(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.disconnect_after_events = 2
    async with (
        aiohttp.ClientSession() as s,
        s.post(gateway.base_url + "/chat/completions", json={**CHAT, "stream": True}) as r,
    ):
        text = (await r.read()).decode()
    assert text.count("data: ") == 3
    assert '"error"' in text.splitlines()[-2]
    assert "[DONE]" not in text


async def test_client_disconnect_cancels_the_upstream_request(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.events = 200
    fake_upstream.behaviour.event_delay_s = 0.02
    async with aiohttp.ClientSession() as s:
        r = await s.post(gateway.base_url + "/chat/completions", json={**CHAT, "stream": True})
        await r.content.readuntil(b"\n\n")
        r.close()  # the caller goes away after the first event
    for _ in range(100):  # bounded wait for the cancellation to travel upstream
        if fake_upstream.cancelled:
            break
        await asyncio.sleep(0.02)
    assert fake_upstream.cancelled == 1
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (499, "client_disconnected")
