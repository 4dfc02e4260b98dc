"""The metrics the pipeline feeds (decisions, findings, tokens, upstream time), the pending approvals read from the
shared store, bounded labels, and the Grafana dashboard, whose every query must name metrics a real gateway serves.
(Requests, latency, upstream errors and the approval and audit queues: tests/test_app.py.)"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client.parser import text_string_to_metric_families

from clearance.app import create_app
from clearance.observability.metrics import GatewayMetrics
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_config
from tests.conftest import RunningGateway
from tests.test_app import get, sample, samples

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "clearance-dashboard.json"
CARD = "4111 1111 1111 1111"


async def post(url: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as s, s.post(url, json=body, headers=headers) as r:
        await r.read()
        return r.status


async def test_a_masked_request_counts_its_decision_findings_tokens_and_upstream_time(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    fake_upstream.behaviour.reply = "noted: 5500 0000 0000 0004"
    chat = {"model": "fm", "messages": [{"role": "user", "content": f"charge {CARD}"}]}
    assert await post(gateway.base_url + "/chat/completions", chat) == 200
    streamed = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    assert await post(gateway.base_url + "/chat/completions", streamed) == 200
    records = [r for r in await gateway.records() if r["endpoint"] == "chat.completions"]
    found = samples((await get(gateway.url + "/metrics"))[1])

    rule = records[0]["rule"]
    assert {r["rule"] for r in records} == {rule}
    labels = {"endpoint": "chat.completions", "model": "fake-model", "decision": "mask", "rule": rule, "status": "200"}
    assert sample(found, "clearance_decisions_total", **labels) == 2.0  # the route's name, not the alias sent
    assert sample(found, "clearance_findings_total", type="CREDIT_CARD", direction="request") == 2.0
    assert sample(found, "clearance_findings_total", type="CREDIT_CARD", direction="response") == 2.0
    prompt = sum(r["prompt_tokens"] for r in records)
    completion = sum(r["completion_tokens"] for r in records)
    assert prompt > 0 and completion > 0
    assert sample(found, "clearance_tokens_total", model="fake-model", direction="in") == prompt
    assert sample(found, "clearance_tokens_total", model="fake-model", direction="out") == completion
    assert sample(found, "clearance_upstream_headers_seconds_count", upstream="fake") == 2.0
    assert sample(found, "clearance_upstream_duration_seconds_count", upstream="fake") == 2.0
    assert sample(found, "clearance_stream_first_byte_seconds_count", endpoint="chat.completions") == 1.0


async def test_a_callers_text_never_becomes_a_label(gateway: RunningGateway) -> None:
    asked = f"model-of-{CARD}"
    chat = {"model": asked, "messages": [{"role": "user", "content": "hi"}]}
    assert await post(gateway.base_url + "/chat/completions", chat, {"X-Data-Classification": "x-" + CARD}) == 404
    text = (await get(gateway.url + "/metrics"))[1]
    labels = {"endpoint": "chat.completions", "model": "unknown", "decision": "none", "rule": "none", "status": "404"}
    assert sample(samples(text), "clearance_decisions_total", **labels) == 1.0
    assert "4111" not in text and "model-of" not in text


@asynccontextmanager
async def instance(config: Any) -> AsyncIterator[tuple[str, web.Application]]:
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), server.app
    finally:
        await server.close()


async def pending(url: str) -> float | None:
    return sample(samples((await get(url + "/metrics"))[1]), "clearance_approvals_pending")


async def test_pending_approvals_are_counted_in_the_shared_store_so_every_instance_agrees(
    tmp_path: Path, fake_upstream: FakeUpstream, postgres_url: str
) -> None:
    config = admin_config(tmp_path, fake_upstream.base_url, postgres_url)
    async with instance(config) as (first, app), instance(config) as (second, _):
        people = People.enrol(app, postgres_url)
        assert (await pending(first), await pending(second)) == (0.0, 0.0)
        held = people.approval("sam")  # asked for through the first instance's store
        people.approval("eve", created_at=time.time() - 30 * 86400)  # lapsed long ago: not pending
        assert (await pending(first), await pending(second)) == (1.0, 1.0)
        async with (
            aiohttp.ClientSession(headers=people.headers("alice")) as s,
            s.post(f"{second}/admin/v1/approvals/{held.id}/approve", json={"reason": "ok"}) as r,
        ):
            assert r.status == 200  # decided on the second
        assert (await pending(first), await pending(second)) == (0.0, 0.0)


def test_a_store_that_cannot_be_read_leaves_the_gauge_out_and_the_scrape_answers() -> None:
    def broken() -> int:
        raise OSError("database is down")

    metrics = GatewayMetrics()
    metrics.watch_pending_approvals(broken)
    text = metrics.render().decode()
    assert "clearance_approvals_pending" not in text
    assert "clearance_requests" in text
    working = GatewayMetrics()
    working.watch_pending_approvals(lambda: 3)
    assert "clearance_approvals_pending 3.0" in working.render().decode()


# -- the dashboard ---------------------------------------------------------------------------------------------

_METRIC = re.compile(r"\bclearance_[a-z0-9_]+\b")
_SUFFIXES = {"counter": ("_total", "_created"), "histogram": ("_bucket", "_count", "_sum", "_created")}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def served_names(text: str) -> set[str]:
    """Every series name ``text`` (a /metrics page) serves or declares: a family's name with its type's suffixes."""
    names: set[str] = set()
    for family in text_string_to_metric_families(text):
        names.add(family.name)
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ()))
        names.update(s.name for s in family.samples)
    return names


async def test_every_metric_the_dashboard_queries_is_served_by_a_real_gateway(gateway: RunningGateway) -> None:
    assert await post(gateway.base_url + "/chat/completions", {"model": "fake-model", "messages": []}) in {200, 400}
    served = served_names((await get(gateway.url + "/metrics"))[1])
    queries = dashboard_queries()
    assert len(queries) >= 20
    queried = set()
    for query in queries:
        names = set(_METRIC.findall(query))
        assert names, f"a query names no clearance metric: {query}"
        queried |= names
    assert queried - served == set()
    # every panel family the brief asks for is on it
    for family in ("clearance_decisions_total", "clearance_approvals_pending", "clearance_audit_queue_depth"):
        assert family in queried


def test_the_dashboard_takes_its_prometheus_from_a_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    [variable] = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "prometheus"
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": f"${{{variable['name']}}}"}


@pytest.mark.parametrize("query", dashboard_queries())
def test_a_dashboard_query_is_balanced(query: str) -> None:
    for opening, closing in ("()", "{}", "[]"):
        assert query.count(opening) == query.count(closing), query
