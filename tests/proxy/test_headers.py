"""What crosses the gateway in headers: request ids both ways, credentials only from the gateway."""

from __future__ import annotations

import uuid
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


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("3f2b8c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b", "3f2b8c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b"),
        ("3F2B8C1E-4A5D-4E6F-9A7B-1C2D3E4F5A6B", "3f2b8c1e-4a5d-4e6f-9a7b-1c2d3e4f5a6b"),
        ("01arz3ndektsv4rrffq69g5fav", "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
    ],
    ids=["uuid", "uuid-upper", "ulid"],
)
async def test_valid_request_id_is_kept_and_sent_upstream(
    gateway: RunningGateway, fake_upstream: FakeUpstream, given: str, kept: str
) -> None:
    r = await call(gateway, {"X-Request-ID": given})
    assert r.headers["X-Request-ID"] == kept
    assert fake_upstream.received[0].headers["X-Request-ID"] == kept
    [record] = await gateway.records()
    assert record["request_id"] == kept


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "has space",
        "x" * 200,
        "<script>",
        "-leading-dash",
        # issue 10: free-form tokens were kept before; they can carry a value, so they are replaced now
        "trace-abc.123",
        "alice.smith@example.org",
        "4111111111111111",
        "536-22-8714",
        "sk-live-abcdefABCDEF0123456789",
        "41111111-1111-4111-8111-111111111111",  # UUID-shaped, but nine digits in a row could be a value
        "0123456789ABCDEFGHJKMNPQRS",  # ULID-shaped, but a digit run
    ],
)
async def test_invalid_request_id_is_replaced(gateway: RunningGateway, fake_upstream: FakeUpstream, bad: str) -> None:
    r = await call(gateway, {"X-Request-ID": bad})
    generated = r.headers["X-Request-ID"]
    assert generated != bad
    assert str(uuid.UUID(generated)) == generated  # a fresh canonical UUID, which the gateway would accept back
    assert fake_upstream.received[0].headers["X-Request-ID"] == generated
    [record] = await gateway.records()
    assert record["request_id"] == generated


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
