"""Health, readiness, metrics and logs."""

from __future__ import annotations

import logging

import aiohttp
import pytest
from sqlalchemy import create_engine

from clearance.observability.logging import JsonFormatter
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as s, s.get(url) as r:
        return r.status, await r.text()


async def test_healthz(gateway: RunningGateway) -> None:
    assert await get(gateway.url + "/healthz") == (200, '{"status":"ok"}')


async def test_readyz_when_store_and_upstream_are_fine(gateway: RunningGateway) -> None:
    status, body = await get(gateway.url + "/readyz")
    assert status == 200
    assert '"audit_store_writable":true' in body


async def test_readyz_fails_when_no_upstream_is_reachable(make_gateway: GatewayFactory) -> None:
    async with FakeUpstream() as gone:
        url = gone.base_url
    gw = await make_gateway([{"name": "gone", "base_url": url, "models": ["m"]}])
    status, body = await get(gw.url + "/readyz")
    assert status == 503
    assert '"gone":false' in body


async def test_readyz_fails_when_the_store_is_not_writable(gateway: RunningGateway) -> None:
    healthy = gateway.audit.engine
    gateway.audit.engine = create_engine("sqlite:////proc/no-such-dir/audit.db")  # a store we cannot write
    healthy.dispose()
    status, _ = await get(gateway.url + "/readyz")
    assert status == 503


async def test_metrics_count_requests_and_upstream_errors(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    chat = {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s:
        async with s.post(gateway.base_url + "/chat/completions", json=chat) as r:
            assert r.status == 200
        fake_upstream.behaviour.error_status = 500
        async with s.post(gateway.base_url + "/chat/completions", json=chat) as r:
            assert r.status == 500
    _, text = await get(gateway.url + "/metrics")
    assert 'clearance_requests_total{endpoint="chat.completions",status="200"} 1.0' in text
    assert 'clearance_upstream_errors_total{code="http_500",upstream="fake"} 1.0' in text
    assert "clearance_request_duration_seconds_bucket" in text
    assert "clearance_streams_in_flight 0.0" in text


async def test_logs_never_contain_prompt_or_response_text(
    gateway: RunningGateway, fake_upstream: FakeUpstream, caplog: pytest.LogCaptureFixture
) -> None:
    secret_prompt = "my card is 4111 1111 1111 1111 and my secret plan"
    fake_upstream.behaviour.reply = "the secret reply text"
    formatter = JsonFormatter()
    caplog.set_level(logging.DEBUG)
    chat = {"model": "fake-model", "messages": [{"role": "user", "content": secret_prompt}]}
    async with aiohttp.ClientSession() as s:
        for stream in (False, True):
            async with s.post(gateway.base_url + "/chat/completions", json={**chat, "stream": stream}) as r:
                assert r.status == 200
                await r.read()
    await gateway.records()
    logged = "\n".join(formatter.format(rec) for rec in caplog.records)
    assert '"msg":"request"' in logged
    assert "4111" not in logged
    assert "secret plan" not in logged
    assert "secret reply" not in logged
