"""What crosses the gateway in headers: request ids both ways, credentials only from the gateway."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

CHAT = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}


async def call(gw: RunningGateway, headers: dict[str, str]) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as s, s.post(gw.base_url + "/chat/completions", json=CHAT, headers=headers) as r:
        await r.read()
        return r


async def test_valid_request_id_is_kept_and_sent_upstream(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    r = await call(gateway, {"X-Request-ID": "trace-abc.123"})
    assert r.headers["X-Request-ID"] == "trace-abc.123"
    assert fake_upstream.received[0].headers["X-Request-ID"] == "trace-abc.123"
    [record] = await gateway.records()
    assert record["request_id"] == "trace-abc.123"


@pytest.mark.parametrize("bad", ["", "has space", "x" * 200, "<script>", "-leading-dash"])
async def test_invalid_request_id_is_replaced(gateway: RunningGateway, fake_upstream: FakeUpstream, bad: str) -> None:
    r = await call(gateway, {"X-Request-ID": bad})
    generated = r.headers["X-Request-ID"]
    assert generated != bad
    assert len(generated) == 32
    assert fake_upstream.received[0].headers["X-Request-ID"] == generated


async def test_caller_headers_never_reach_the_upstream(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    await call(gateway, {"Authorization": "Bearer caller-secret", "Cookie": "session=caller", "X-Api-Key": "k"})
    sent = fake_upstream.received[0].headers
    assert "Authorization" not in sent
    assert "Cookie" not in sent
    assert "X-Api-Key" not in sent


@pytest.mark.parametrize("source", ["env", "file"])
async def test_gateway_injects_the_upstream_credential(
    make_gateway: GatewayFactory,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
) -> None:
    if source == "env":
        monkeypatch.setenv("UPSTREAM_KEY", "sk-gateway-held")
        credentials = {"env": "UPSTREAM_KEY"}
    else:
        key_file = tmp_path / "key"
        key_file.write_text("sk-gateway-held\n")
        credentials = {"file": str(key_file)}
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"], "credentials": credentials}]
    )
    r = await call(gw, {"Authorization": "Bearer caller-secret"})
    assert r.status == 200
    assert fake_upstream.received[0].headers["Authorization"] == "Bearer sk-gateway-held"
    assert "sk-gateway-held" not in (await r.text())
