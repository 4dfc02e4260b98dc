"""The HTTP sink against a real aiohttp receiver on loopback: batches of the configured size, a 503 retried
until the receiver takes the batch, a receiver that is down filling a bounded backlog whose drops are counted, the
four body shapes, and header secrets read from the environment."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import HttpUrl

from clearance.audit.sink_config import HeaderSecret, HttpSinkConfig, SinkRetryConfig
from clearance.audit.sink_http import HttpSink, bulk_errors, http_body
from clearance.audit.sinks import SinkDispatcher, SinkFailed, SinkRecord
from clearance.audit.store import _row
from tests.audit.conftest import trail_record

TOKEN = "hec-token-0123456789"


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200), keeping each body it takes."""

    url: str = ""
    statuses: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    answer: bytes = b"{}"
    posts: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()

    async def take(request: web.Request) -> web.Response:
        state.posts += 1
        body = await request.read()
        status = state.statuses.pop(0) if state.statuses else 200
        if status == 200:
            state.bodies.append(body)
            state.headers.append(dict(request.headers))
        return web.Response(status=status, body=state.answer, content_type="application/json")

    app = web.Application()
    app.router.add_post("/ingest", take)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    state.url = str(server.make_url("/ingest"))
    try:
        yield state
    finally:
        await server.close()


def records(first: int, count: int) -> list[dict[str, Any]]:
    return [{**_row(trail_record(i)), "id": i} for i in range(first, first + count)]


def sink_records(count: int) -> list[SinkRecord]:
    return [SinkRecord.from_row(row) for row in records(1, count)]


def config(url: str, **options: Any) -> HttpSinkConfig:
    return HttpSinkConfig(url=HttpUrl(url), **options)


class NoSleep:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.sleeps.append(seconds)


async def test_when_records_are_published_then_they_arrive_in_batches_of_the_configured_size(
    receiver: Receiver,
) -> None:
    sinks = SinkDispatcher([HttpSink(config(receiver.url, batch_size=4, flush_interval=0), "http")])
    async with sinks:
        sinks.publish(records(1, 10))
        await sinks.flush()
    batches = [json.loads(body)["records"] for body in receiver.bodies]
    assert [len(b) for b in batches] == [4, 4, 2]
    assert [r["id"] for b in batches for r in b] == list(range(1, 11))
    assert receiver.headers[0]["Content-Type"] == "application/json"
    assert sinks.counts.sent == 10


async def test_when_the_receiver_answers_503_then_the_batch_is_retried_until_taken(receiver: Receiver) -> None:
    receiver.statuses = [503, 503, 429]
    sleep = NoSleep()
    sinks = SinkDispatcher(
        [HttpSink(config(receiver.url, batch_size=10, flush_interval=0), "http")],
        retry=SinkRetryConfig(initial_backoff=2, max_backoff=30),
        sleep=sleep,
    )
    async with sinks:
        sinks.publish(records(1, 3))
        await sinks.flush()
    assert receiver.posts == 4 and sleep.sleeps == [2, 4, 8]
    assert [r["id"] for r in json.loads(receiver.bodies[0])["records"]] == [1, 2, 3]
    assert sinks.counts.retried == 9 and sinks.counts.sent == 3


async def test_when_the_receiver_refuses_the_batch_then_it_is_not_retried(receiver: Receiver) -> None:
    receiver.statuses = [400]
    sink = HttpSink(config(receiver.url), "http")
    await sink.start()
    try:
        with pytest.raises(SinkFailed, match="answered 400") as failure:
            await sink.send(sink_records(1))
    finally:
        await sink.close()
    assert failure.value.retry is False


async def test_when_the_receiver_is_down_then_the_backlog_is_bounded_and_drops_are_counted(
    receiver: Receiver,
) -> None:
    gate = asyncio.Event()
    receiver.statuses = [503] * 1000  # down until the gate opens

    async def wait_for_the_receiver(_seconds: float) -> None:
        if not gate.is_set():
            receiver.statuses.clear()
            await gate.wait()

    outcomes: list[tuple[str, str, int]] = []
    retrying = asyncio.Event()

    def count(sink: str, outcome: str, n: int) -> None:
        outcomes.append((sink, outcome, n))
        if outcome == "retried":
            retrying.set()

    sinks = SinkDispatcher(
        [HttpSink(config(receiver.url, batch_size=5, flush_interval=0), "http")],
        backlog=8,
        sleep=wait_for_the_receiver,
        on_outcome=count,
    )
    async with sinks:
        sinks.publish(records(1, 5))
        async with asyncio.timeout(5):  # the first batch has failed once and waits to retry
            await retrying.wait()
        for first in range(6, 26, 5):
            sinks.publish(records(first, 5))
        assert sinks.backlog == {"http": 8}
        gate.set()
        await sinks.flush()
    assert sinks.counts.dropped == 17 and sinks.counts.sent == 8
    assert sum(n for _, outcome, n in outcomes if outcome == "dropped") == 17
    assert [r["id"] for body in receiver.bodies for r in json.loads(body)["records"]] == [1, 2, 3, 4, 5, 6, 7, 8]


async def test_when_headers_name_secrets_then_their_values_are_sent_with_the_prefix(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HEC_TOKEN", TOKEN)
    headers = {"Authorization": HeaderSecret(env="TEST_HEC_TOKEN", prefix="Splunk ")}
    sink = HttpSink(config(receiver.url, headers=headers, format="splunk_hec"), "splunk")
    await sink.start()
    try:
        await sink.send(sink_records(2))
    finally:
        await sink.close()
    assert receiver.headers[0]["Authorization"] == f"Splunk {TOKEN}"
    events = [json.loads(line) for line in receiver.bodies[0].splitlines()]
    assert [e["event"]["id"] for e in events] == [1, 2]
    assert events[0]["time"] == 1_700_000_001.25 and events[0]["sourcetype"] == "clearance:audit"


def test_when_the_format_is_elasticsearch_bulk_then_each_record_is_a_create_with_its_request_id() -> None:
    body, content_type = http_body(config("http://127.0.0.1:9200/_bulk", format="elasticsearch_bulk"), sink_records(2))
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert content_type == "application/x-ndjson" and body.endswith(b"\n")
    assert lines[0] == {"create": {"_index": "clearance-audit", "_id": "req-1"}}
    assert lines[1]["@timestamp"] == "2023-11-14T22:13:21.250000Z" and lines[1]["id"] == 1
    assert lines[2]["create"]["_id"] == "req-2"


def test_when_a_bulk_answer_has_errors_then_only_those_other_than_conflicts_count() -> None:
    answer = {"errors": True, "items": [{"create": {"status": 201}}, {"create": {"status": 409}}]}
    assert bulk_errors(json.dumps(answer).encode()) == 0
    answer["items"].append({"create": {"status": 400}})  # type: ignore[attr-defined]
    assert bulk_errors(json.dumps(answer).encode()) == 1
    assert bulk_errors(b'{"errors": false, "items": []}') == 0


def test_when_the_format_is_loki_then_one_stream_holds_a_line_per_record() -> None:
    body, _ = http_body(config("http://127.0.0.1:3100/loki/api/v1/push", format="loki"), sink_records(2))
    (stream,) = json.loads(body)["streams"]
    assert stream["stream"] == {"service_name": "clearance", "job": "clearance-audit"}
    assert stream["values"][0][0] == "1700000001250000000"
    assert json.loads(stream["values"][1][1])["id"] == 2
