"""Health, readiness, metrics and logs."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from clearance.app import NOTIFICATIONS, POLICY, POLICY_VERSIONS, ROUTER, create_app
from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.auth.keys import ApiKeyStore
from clearance.config import GatewayConfig
from clearance.observability.logging import JsonFormatter
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_config
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


async def test_when_the_store_is_not_writable_then_readyz_follows_whether_the_spool_has_room(
    gateway: RunningGateway,
) -> None:
    healthy = gateway.audit.engine
    gateway.audit.engine = create_engine("sqlite:////proc/no-such-dir/audit.db")  # a store we cannot write
    healthy.dispose()
    status, _ = await get(gateway.url + "/readyz")
    assert status == 200  # records go to the spool meanwhile
    spool = gateway.audit.spool
    assert spool is not None
    spool.max_bytes = spool.size  # the spool is full
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


async def test_when_no_auth_is_configured_then_a_rebound_page_reaches_neither_the_model_nor_the_metrics(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    # DNS rebinding: the browser connects from loopback but asks for the attacker's name in Host
    rebound = {"Host": "evil.example:8080"}
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]}
    async with aiohttp.ClientSession(headers=rebound) as s:
        async with s.post(gateway.base_url + "/chat/completions", json=body) as r:
            assert r.status == 401
            assert (await r.json())["error"]["code"] == "loopback_only"
        async with s.get(gateway.url + "/metrics") as r:
            assert r.status == 403
    assert fake_upstream.received == []
    assert [r["status"] for r in await gateway.records()] == [401]  # refused, and recorded
    async with aiohttp.ClientSession() as s, s.post(gateway.base_url + "/chat/completions", json=body) as r:
        assert r.status == 200  # the gateway's own host name still works


async def test_a_failing_listing_is_a_recorded_500(gateway: RunningGateway, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> list[Any]:
        raise RuntimeError("router exploded")

    monkeypatch.setattr(gateway.app[ROUTER], "models", broken)
    status, text = await get(gateway.base_url + "/models")
    assert status == 500
    assert '"internal_error"' in text and "exploded" not in text
    [record] = await gateway.records()
    assert (record["status"], record["error_code"]) == (500, "internal_error")


# -- approval events and their notifications in /metrics -----------------------------------------------------

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def sample(found: Samples, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


@dataclass
class Receivers:
    """Webhook receivers on loopback: ``/ok``, ``/sam`` and ``/eve`` take a delivery (204), ``/broken`` answers 503."""

    url: str
    got: dict[str, list[dict[str, Any]]]


@asynccontextmanager
async def receivers() -> AsyncIterator[Receivers]:
    got: dict[str, list[dict[str, Any]]] = {"ok": [], "sam": [], "eve": [], "broken": []}

    async def hook(request: web.Request) -> web.Response:
        got[request.match_info["name"]].append(orjson.loads(await request.read()))
        return web.Response(status=503 if request.match_info["name"] == "broken" else 204)

    app = web.Application()
    app.router.add_post("/{name}", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield Receivers(str(server.make_url("")).rstrip("/"), got)
    finally:
        await server.close()


@asynccontextmanager
async def approving_gateway(
    tmp_path: Path, upstream: FakeUpstream, notifications: dict[str, Any]
) -> AsyncIterator[tuple[str, People, web.Application]]:
    """The approvals gateway (``tests.admin.gateway``) with these notifiers: its URL, its people and its app."""
    config = admin_config(tmp_path, upstream.base_url)
    section = ApprovalNotifiersConfig.model_validate(notifications)
    config = config.model_copy(update={"approvals": config.approvals.model_copy(update={"notifications": section})})
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), People.enrol(server.app, config.database.url), server.app
    finally:
        await server.close()


async def approve(url: str, people: People, approval_id: str) -> None:
    async with (
        aiohttp.ClientSession(headers=people.headers("alice")) as s,
        s.post(f"{url}/admin/v1/approvals/{approval_id}/approve", json={"reason": "ok"}) as r,
    ):
        assert r.status == 200


async def test_when_a_decision_is_delivered_then_metrics_count_the_event_and_each_notifier_that_sent_it(
    tmp_path: Path, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_METRICS_HOOK", "whsec-metrics")
    secret = {"env": "CLR_TEST_METRICS_HOOK"}
    async with receivers() as hooks:
        notifiers = {
            "webhooks": [{"name": "soc", "url": hooks.url + "/ok", "secret": secret}],
            "requester_webhooks": [
                {"name": "sam-agent", "requester": "sam", "url": hooks.url + "/sam", "secret": secret},
                {"name": "eve-agent", "requester": "eve", "url": hooks.url + "/eve", "secret": secret},
            ],
        }
        async with approving_gateway(tmp_path, fake_upstream, notifiers) as (url, people, app):
            held = people.approval("sam")
            await approve(url, people, held.id)
            await app[NOTIFICATIONS].close()  # drains: every delivery is over when it returns
            status, text = await get(url + "/metrics")
    assert status == 200
    found = samples(text)
    assert sample(found, "clearance_approval_events_total", event="approved") == 1.0
    assert sample(found, "clearance_approval_events_total", event="requested") == 0.0  # shown before it happens
    notified = "clearance_approval_notifications_total"
    assert sample(found, notified, notifier="soc", event="approved", outcome="sent") == 1.0
    assert sample(found, notified, notifier="sam-agent", event="approved", outcome="sent") == 1.0
    eves = [labels for name, labels in found if name == notified and ("notifier", "eve-agent") in labels]
    assert eves == []  # eve's webhook was told nothing of sam's approval
    for notifier in ("soc", "sam-agent", "eve-agent"):
        assert sample(found, "clearance_approval_notifications_queued", notifier=notifier) == 0.0
    assert [e["approval"]["id"] for e in hooks.got["sam"]] == [held.id]
    assert hooks.got["eve"] == []


async def test_when_a_receiver_keeps_failing_then_metrics_count_its_retries_and_the_failure(
    tmp_path: Path, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_METRICS_HOOK", "whsec-metrics")
    async with receivers() as hooks:
        notifiers = {
            "webhooks": [{"name": "down", "url": hooks.url + "/broken", "secret": {"env": "CLR_TEST_METRICS_HOOK"}}],
            "retry": {"max_attempts": 3, "initial_backoff": 0.001, "max_backoff": 0.002},
        }
        async with approving_gateway(tmp_path, fake_upstream, notifiers) as (url, people, app):
            await approve(url, people, people.approval("sam").id)
            await app[NOTIFICATIONS].close()
            _, text = await get(url + "/metrics")
    found = samples(text)
    notified = "clearance_approval_notifications_total"
    assert sample(found, notified, notifier="down", event="approved", outcome="retried") == 2.0
    assert sample(found, notified, notifier="down", event="approved", outcome="failed") == 1.0
    assert sample(found, notified, notifier="down", event="approved", outcome="sent") is None
    assert len(hooks.got["broken"]) == 3  # every attempt reached the receiver


async def test_when_the_gateway_starts_and_reloads_then_each_policy_version_is_kept_in_its_database(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yaml"
    first = "version: 1\nclearances: [{anonymous: true, level: internal}]\ndefaults: {unknown_model: allow}\n"
    policy_file.write_text(first)
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["m"]}],
        policy={"file": str(policy_file), "reload_interval": 3600},
        server={"instance_id": "gw-test"},
    )
    versions = gw.app[POLICY_VERSIONS]
    holder = gw.app[POLICY]
    started = holder.loaded

    second = first + "description: the second version\n"
    policy_file.write_text(second)
    assert holder.reload() is True  # as SIGHUP does, on the event loop
    history = []
    for _ in range(200):  # the recorder writes from its own task: bounded wait for it
        history = await asyncio.to_thread(versions.page, limit=10)
        if len(history) == 2:
            break
        await asyncio.sleep(0.02)

    assert [(v.digest, v.source, v.instance) for v in history] == [
        (holder.policy.digest, str(policy_file), "gw-test"),
        (started.policy.digest, str(policy_file), "gw-test"),
    ]
    assert history[1].first_loaded_at == started.loaded_at
    stored = await asyncio.to_thread(versions.get, holder.policy.digest)
    assert stored is not None and stored.text == second
