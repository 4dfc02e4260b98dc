"""Health, readiness, metrics and logs."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from sqlalchemy import create_engine

from clearance.app import ROUTER, create_app
from clearance.auth.keys import ApiKeyStore
from clearance.config import GatewayConfig
from clearance.observability.logging import JsonFormatter
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway, gateway_config


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
    # A generated request id is random hex, which now and then holds "4111": it is the gateway's, not the card's.
    logged = re.sub(r'"request_id":"[0-9a-f-]{36}"', '"request_id":"<uuid>"', logged)
    assert "4111" not in logged
    assert "secret plan" not in logged
    assert "secret reply" not in logged


# -- who sees /metrics and the details of /readyz ------------------------------------------------------------

ELSEWHERE = "203.0.113.9"


@asynccontextmanager
async def served_from(
    tmp_path: Path, upstream: FakeUpstream, remote: str, **extra: Any
) -> AsyncIterator[tuple[str, GatewayConfig]]:
    """The gateway as callers at ``remote`` see it: the address is set as a reverse proxy's middleware would."""
    config = gateway_config(
        tmp_path, [{"name": "fake", "base_url": upstream.base_url, "models": ["fake-model"]}], **extra
    )
    app = create_app(config)

    @web.middleware
    async def from_remote(request: web.Request, handler: Handler) -> web.StreamResponse:
        return await handler(request.clone(remote=remote))

    app.middlewares.insert(0, from_remote)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), config
    finally:
        await server.close()


async def test_metrics_and_readyz_details_are_not_served_to_other_addresses(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    async with served_from(tmp_path, fake_upstream, ELSEWHERE) as (url, _):
        status, text = await get(url + "/metrics")
        assert status == 403
        assert '"not_allowed_from_here"' in text
        assert "clearance_requests" not in text
        status, text = await get(url + "/readyz")
        assert (status, text) == (200, '{"status":"ready"}')  # the state, not which upstreams or stores
        assert (await get(url + "/healthz"))[0] == 200


async def test_an_authenticated_caller_elsewhere_sees_the_details(tmp_path: Path, fake_upstream: FakeUpstream) -> None:
    async with served_from(tmp_path, fake_upstream, ELSEWHERE, auth={"api_keys": {"enabled": True}}) as (url, config):
        store = ApiKeyStore(config.database.url)
        _, key = store.create(owner="monitor", groups=[], expires_at=None)
        store.close()
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession(headers=headers) as s:
            async with s.get(url + "/metrics") as r:
                assert r.status == 200
                assert "clearance_requests" in await r.text()
            async with s.get(url + "/readyz") as r:
                assert '"fake":true' in await r.text()
        async with aiohttp.ClientSession(headers={"Authorization": "Bearer wrong"}) as s, s.get(url + "/metrics") as r:
            assert r.status == 403


async def test_metrics_public_serves_everyone(tmp_path: Path, fake_upstream: FakeUpstream) -> None:
    async with served_from(tmp_path, fake_upstream, ELSEWHERE, server={"metrics_public": True}) as (url, _):
        assert (await get(url + "/metrics"))[0] == 200
        assert '"fake":true' in (await get(url + "/readyz"))[1]


async def test_loopback_callers_see_the_details(tmp_path: Path, fake_upstream: FakeUpstream) -> None:
    async with served_from(tmp_path, fake_upstream, "127.0.0.1") as (url, _):
        assert (await get(url + "/metrics"))[0] == 200
        assert '"fake":true' in (await get(url + "/readyz"))[1]


async def test_a_failing_listing_is_a_recorded_500(gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("router exploded")

    monkeypatch.setattr(gateway.app[ROUTER], "models", broken)
    status, text = await get(gateway.base_url + "/models")
    assert status == 500
    assert '"internal_error"' in text and "exploded" not in text
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (500, "internal_error")
