"""When inspection breaks, nothing raw goes anywhere: the request is not forwarded, the stream is cut with an error."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import openai
import orjson
import pytest

from clearance.detect import Scanner
from clearance.models import Finding
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

CARD = "4111 1111 1111 1111"
real_scan = Scanner.scan


def exploding_scan(self: Scanner, text: str) -> list[Finding]:
    if "EXPLODE" in text:
        raise RuntimeError("a detector bug")
    return real_scan(self, text)


@pytest.fixture
async def fragile_gateway(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> RunningGateway:
    monkeypatch.setattr(Scanner, "scan", exploding_scan)
    return await make_gateway([{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}])


async def test_when_detection_fails_on_the_request_then_nothing_is_forwarded(
    fragile_gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": f"EXPLODE {CARD}"}]}
    async with aiohttp.ClientSession() as s, s.post(fragile_gateway.base_url + "/chat/completions", json=body) as r:
        error = await r.json()
        assert r.status == 500
    assert error["error"]["code"] == "inspection_failed"
    assert CARD not in str(error)
    assert fake_upstream.received == []
    [record] = await fragile_gateway.records()
    assert record["error_code"] == "inspection_failed"


async def test_when_detection_fails_on_a_whole_answer_then_it_is_not_returned(
    fragile_gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.reply = f"EXPLODE {CARD}"
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s, s.post(fragile_gateway.base_url + "/chat/completions", json=body) as r:
        text = await r.text()
        assert r.status == 500
    assert CARD not in text


async def test_when_detection_fails_mid_stream_then_the_stream_ends_with_an_error(
    fragile_gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.pieces = ["Fine so far. ", "Then EXPLODE ", f"{CARD} ", "more"]
    async with openai.AsyncOpenAI(base_url=fragile_gateway.base_url, api_key="x", max_retries=0) as sdk:
        stream = await sdk.chat.completions.create(
            model="fake-model", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        received = ""
        with pytest.raises(openai.APIError, match="could not inspect"):
            async for chunk in stream:
                received += chunk.choices[0].delta.content or "" if chunk.choices else ""
    assert received.startswith("Fine so far.")
    assert "4111" not in received
    [record] = await fragile_gateway.records()
    assert record["error_code"] == "inspection_failed"


def with_garbage(data: bytes) -> Iterator[bytes]:
    frames = data.split(b"\n\n")
    yield frames[0] + b"\n\n"
    yield b"data: {this is not json\n\n"
    yield b"\n\n".join(frames[1:])


async def test_an_unparseable_event_ends_the_stream_and_is_never_relayed(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.pieces = ["ok ", f"{CARD} ", "end"]
    fake_upstream.behaviour.chunker = with_garbage
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    async with aiohttp.ClientSession() as s, s.post(gateway.base_url + "/chat/completions", json=body) as r:
        raw = (await r.read()).decode()
    assert "this is not json" not in raw
    assert "4111" not in raw
    last = orjson.loads(raw.strip().split("\n\n")[-1].removeprefix("data: "))
    assert last["error"]["code"] == "upstream_protocol_error"
