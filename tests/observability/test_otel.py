"""Traces through a real gateway, exported over OTLP/HTTP to a collector stand-in on loopback
(``tests.observability.otlp_collector``): a span per stage under one span per request, the caller's trace continued
and carried on to the upstream, safe attributes, and never a raw value."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import TRACER, create_app
from clearance.models import AuditRecord, Usage
from clearance.observability.otel import record_attributes
from clearance.observability.tracing import STAGES
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_config
from tests.conftest import GatewayFactory, RunningGateway
from tests.observability.otlp_collector import Collector, ExportedSpan, otlp_collector

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CALLER_SPAN}-01"
CARD = "4111 1111 1111 1111"
ANSWER_CARD = "5500 0000 0000 0004"
PROMPT = f"please charge my card {CARD} for the secret plan"
SECRETS = (CARD, CARD.replace(" ", ""), ANSWER_CARD, ANSWER_CARD.replace(" ", ""), "secret plan", "caller-token")
WHOLE_STAGES = [s for s in STAGES if s not in {"approval", "limits"}]


@pytest.fixture
async def collector() -> AsyncIterator[Collector]:
    async with otlp_collector() as running:
        yield running


async def traced(
    make_gateway: GatewayFactory, upstream: FakeUpstream, telemetry: dict[str, Any] | None = None
) -> RunningGateway:
    return await make_gateway(
        [{"name": "fake", "base_url": upstream.base_url, "models": [{"name": "fake-model", "aliases": ["fm"]}]}],
        telemetry=telemetry if telemetry is not None else {},
    )


async def chat(gateway: RunningGateway, body: dict[str, Any] | bytes, headers: dict[str, str]) -> int:
    payload = body if isinstance(body, bytes) else None
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            gateway.base_url + "/chat/completions",
            data=payload,
            json=None if payload is not None else body,
            headers={"Content-Type": "application/json", **headers},
        ) as response,
    ):
        await response.read()
        return response.status


async def flush(gateway: RunningGateway) -> None:
    """Every ended span exported (the exporter's thread posts to the collector, served by this loop)."""
    async with asyncio.timeout(30):
        await asyncio.to_thread(gateway.app[TRACER].flush)


def assert_nothing_raw(collector: Collector) -> None:
    for secret in SECRETS:
        for export in collector.exports:
            assert secret.encode() not in export
        for decoded in collector.decoded:
            assert secret not in decoded


def children(collector: Collector, parent: ExportedSpan) -> dict[str, ExportedSpan]:
    found = {s.name: s for s in collector.spans if s.parent_span_id == parent.span_id}
    assert all(s.trace_id == parent.trace_id for s in found.values())
    return found


async def test_a_whole_request_is_a_span_per_stage_under_the_callers_trace(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    fake_upstream.behaviour.reply = f"noted, the card on file is {ANSWER_CARD}"
    gateway = await traced(make_gateway, fake_upstream, {"otlp_endpoint": collector.url, "service_name": "gw-test"})
    body = {"model": "fm", "messages": [{"role": "user", "content": PROMPT}]}
    assert await chat(gateway, body, {"traceparent": TRACEPARENT, "Authorization": "Bearer caller-token"}) == 200
    await flush(gateway)

    request = collector.one("clearance.request")
    assert (request.trace_id, request.parent_span_id) == (TRACE_ID, CALLER_SPAN)
    assert request.service_name == "gw-test"
    stages = children(collector, request)
    assert sorted(stages) == sorted(f"clearance.{s}" for s in WHOLE_STAGES)
    assert not any(s.failed for s in collector.spans)

    [record] = [r for r in await gateway.records() if r["endpoint"] == "chat.completions"]
    attributes = request.attributes
    assert attributes["clearance.endpoint"] == "chat.completions"
    assert attributes["clearance.model"] == "fake-model"  # the route's name, not the alias the caller sent
    assert attributes["http.response.status_code"] == 200
    assert (attributes["clearance.decision"], attributes["clearance.rule"]) == (record["decision"], record["rule"])
    assert attributes["clearance.decision"] == "mask"
    assert attributes["clearance.findings.request.CREDIT_CARD"] == 1
    assert attributes["clearance.findings.response.CREDIT_CARD"] == 1
    assert attributes["gen_ai.usage.input_tokens"] == record["prompt_tokens"]
    assert not {key for key in attributes if "subject" in key or "email" in key or "user" in key}

    # the upstream's request carries the trace on, as a child of the upstream stage's span
    [received] = fake_upstream.received
    assert received.headers["traceparent"] == f"00-{TRACE_ID}-{stages['clearance.upstream'].span_id}-01"
    assert CARD not in str(received.body)  # masked before it left (and so in no span either)
    assert_nothing_raw(collector)


async def test_a_stream_records_before_its_end_inside_the_relay(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    gateway = await traced(make_gateway, fake_upstream, {"otlp_endpoint": collector.url})
    body = {"model": "fake-model", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    assert await chat(gateway, body, {"traceparent": TRACEPARENT}) == 200
    await flush(gateway)

    request = collector.one("clearance.request")
    assert request.trace_id == TRACE_ID
    assert request.service_name == "clearance"
    stages = children(collector, request)
    assert sorted(stages) == sorted(f"clearance.{s}" for s in WHOLE_STAGES if s != "record")
    # a stream's record is made durable before its last event goes out: within the relay
    assert set(children(collector, stages["clearance.relay"])) == {"clearance.record"}
    assert request.attributes["clearance.stream"] is True
    [received] = fake_upstream.received
    assert received.headers["traceparent"].split("-")[1] == TRACE_ID
    assert_nothing_raw(collector)


async def test_a_refused_request_marks_its_stage_failed_with_the_code_only(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    gateway = await traced(make_gateway, fake_upstream, {"otlp_endpoint": collector.url})
    broken = f'{{"model": "fake-model", "messages": "{CARD}'.encode()  # cut off: not JSON
    assert await chat(gateway, broken, {}) == 400
    await flush(gateway)

    request = collector.one("clearance.request")
    assert request.parent_span_id == ""  # no traceparent: a trace of its own
    parse = collector.one("clearance.parse")
    assert parse.parent_span_id == request.span_id
    assert parse.failed
    assert parse.attributes == {"error.type": "InvalidJSON", "clearance.error_code": "invalid_json"}
    assert (parse.status_message, parse.events) == ("", 0)  # no message, no exception event
    assert request.attributes["http.response.status_code"] == 400
    assert request.attributes["clearance.error_code"] == "invalid_json"
    assert "clearance.decision" not in request.attributes  # refused before a decision
    assert collector.named("clearance.upstream") == []
    assert fake_upstream.received == []
    assert_nothing_raw(collector)


async def test_a_request_held_for_approval_marks_the_approval_stage(
    tmp_path: Path, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    token = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
    config = admin_config(tmp_path, fake_upstream.base_url, telemetry={"otlp_endpoint": collector.url})
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        people = People.enrol(server.app, config.database.url)
        body = {"model": "llama-internal", "messages": [{"role": "user", "content": f"deploy with {token}"}]}
        async with (
            aiohttp.ClientSession(headers=people.headers("sam")) as session,
            session.post(str(server.make_url("/v1/chat/completions")), json=body) as response,
        ):
            assert response.status == 403
            assert (await response.json())["error"]["code"] == "approval_required"
        async with asyncio.timeout(30):
            await asyncio.to_thread(server.app[TRACER].flush)
    finally:
        await server.close()

    request = collector.one("clearance.request")
    approval = children(collector, request)["clearance.approval"]
    assert approval.failed and approval.attributes["clearance.error_code"] == "approval_required"
    assert request.attributes["clearance.decision"] == "require_approval"
    assert request.attributes["clearance.rule"] == "secrets-need-approval"
    assert request.attributes["clearance.findings.request.GITHUB_TOKEN"] == 1
    assert collector.named("clearance.upstream") == []  # held: nothing was sent
    for secret in (token, people.keys["sam"]):
        assert not any(secret.encode() in export for export in collector.exports)
        assert not any(secret in decoded for decoded in collector.decoded)


async def test_an_unsampled_trace_sends_no_span_and_still_carries_the_context_upstream(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    gateway = await traced(make_gateway, fake_upstream, {"otlp_endpoint": collector.url, "sample_ratio": 0})
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]}
    assert await chat(gateway, body, {}) == 200
    unsampled = f"00-{TRACE_ID}-{CALLER_SPAN}-00"
    assert await chat(gateway, body, {"traceparent": unsampled}) == 200
    assert await chat(gateway, body, {"traceparent": TRACEPARENT}) == 200  # the caller sampled it: recorded
    await flush(gateway)
    assert {s.trace_id for s in collector.spans} == {TRACE_ID}
    assert collector.one("clearance.request").parent_span_id == CALLER_SPAN
    first, second, _ = (r.headers["traceparent"].split("-") for r in fake_upstream.received)
    assert second[1] == TRACE_ID
    assert not int(first[3], 16) & 1 and not int(second[3], 16) & 1  # sent on, marked not sampled


async def test_the_standard_environment_variables_name_the_collector_and_the_service(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", collector.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-the-environment")
    gateway = await traced(make_gateway, fake_upstream)  # telemetry: {}
    assert await chat(gateway, {"model": "fake-model", "messages": [{"role": "user", "content": "hi"}]}, {}) == 200
    await flush(gateway)
    assert collector.one("clearance.request").service_name == "from-the-environment"


def test_record_attributes_leave_out_who_asked_and_what_was_said() -> None:

    record = AuditRecord(
        request_id="r-1",
        started_at=0.0,
        endpoint="chat.completions",
        method="POST",
        status=200,
        model="fm",
        policy_model="fake-model",
        subject="alice@example.com",
        email="alice@example.com",
        client_addr="127.0.0.1",
        user_agent="agent/1",
        request_text=PROMPT,
        response_text=PROMPT,
        key_id="key-1",
        approval_id="apr-1",
        findings={"CREDIT_CARD": 1},
        usage=Usage(prompt_tokens=3, completion_tokens=4, total_tokens=7),
    )
    attributes = record_attributes(record)
    assert "alice" not in str(attributes) and CARD not in str(attributes) and "key-1" not in str(attributes)
    assert "apr-1" not in str(attributes) and "127.0.0.1" not in str(attributes)
    assert attributes["clearance.findings.request.CREDIT_CARD"] == 1
    assert (attributes["gen_ai.usage.input_tokens"], attributes["gen_ai.usage.output_tokens"]) == (3, 4)


async def test_the_callers_tracestate_is_neither_carried_upstream_nor_exported(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, collector: Collector
) -> None:
    # tracestate is free text of the caller's (up to 512 characters): carried on, it would be a channel around
    # inspection to the model server, and it would be written in every span of the trace at the collector
    gateway = await traced(make_gateway, fake_upstream, {"otlp_endpoint": collector.url})
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]}
    smuggled = CARD.replace(" ", "")
    headers = {"traceparent": TRACEPARENT, "tracestate": f"acme={smuggled},other=secret-plan"}
    assert await chat(gateway, body, headers) == 200
    await flush(gateway)

    assert collector.one("clearance.request").trace_id == TRACE_ID  # the trace itself is still continued
    [received] = fake_upstream.received
    assert received.headers["traceparent"].split("-")[1] == TRACE_ID
    assert "tracestate" not in {name.lower() for name in received.headers}
    assert smuggled not in str(received.headers)
    for export in collector.exports:
        assert smuggled.encode() not in export and b"secret-plan" not in export
