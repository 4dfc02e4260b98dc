"""The sink dispatcher: records streamed in order and in batches, retried with backoff, bounded backlogs whose drops
are counted, a drain at close; and, end to end, a gateway whose JSON lines sink gets every record as written,
never a raw value, with its outcomes in the metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from clearance.app import AUDIT_SINKS
from clearance.audit.leaf import leaf_data, record_leaf_hash
from clearance.audit.sink_config import SinkRetryConfig
from clearance.audit.sinks import SinkDispatcher, SinkFailed, SinkRecord
from clearance.audit.store import SqlAuditStore, _row
from clearance.auth.keys import ApiKeyStore
from clearance.observability.logging import JsonFormatter
from clearance.testing.fake_upstream import FakeUpstream
from tests.audit.conftest import trail_record
from tests.conftest import GatewayFactory


@dataclass
class FakeSink:
    """A sink that keeps the batches it is sent; fails while ``failures`` is above zero; waits on ``gate``."""

    name: str = "fake"
    batch_size: int = 10
    flush_interval: float = 0.0
    timeout: float = 5.0
    failures: int = 0
    permanent: bool = False
    gate: asyncio.Event | None = None
    batches: list[list[Any]] = field(default_factory=list)
    attempts: int = 0
    started: bool = False
    closed: bool = False

    async def start(self) -> None:
        self.started = True

    async def send(self, records: Sequence[SinkRecord]) -> None:
        self.attempts += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise SinkFailed(f"{self.name}: answered 503", retry=not self.permanent)
        self.batches.append([r.fields["id"] for r in records])

    async def close(self) -> None:
        self.closed = True


@dataclass
class Recorder:
    sleeps: list[float] = field(default_factory=list)
    outcomes: list[tuple[str, str, int]] = field(default_factory=list)
    backlog: list[tuple[str, int]] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def outcome(self, sink: str, outcome: str, records: int) -> None:
        self.outcomes.append((sink, outcome, records))

    def held(self, sink: str, depth: int) -> None:
        self.backlog.append((sink, depth))


def rows(first: int, count: int) -> list[dict[str, Any]]:
    return [{**_row(trail_record(i)), "id": i} for i in range(first, first + count)]


def dispatcher(sink: FakeSink, recorder: Recorder, **options: Any) -> SinkDispatcher:
    return SinkDispatcher(
        [sink], sleep=recorder.sleep, on_outcome=recorder.outcome, on_backlog=recorder.held, **options
    )


async def test_when_rows_are_published_then_the_sink_gets_them_in_order_in_batches() -> None:
    sink, recorder = FakeSink(batch_size=4), Recorder()
    async with dispatcher(sink, recorder) as sinks:
        sinks.publish(rows(1, 6))
        sinks.publish(rows(7, 3))
        await sinks.flush()
        assert sinks.backlog == {"fake": 0}
    assert [i for batch in sink.batches for i in batch] == list(range(1, 10))
    assert all(len(batch) <= 4 for batch in sink.batches)
    assert sinks.counts.sent == 9 and sinks.counts.dropped == 0
    assert sum(n for _, outcome, n in recorder.outcomes if outcome == "sent") == 9
    assert recorder.backlog[-1] == ("fake", 0) and max(d for _, d in recorder.backlog) >= 6
    assert sink.started and sink.closed


async def test_when_a_partial_batch_waits_for_more_then_close_sends_it_at_once() -> None:
    sink, recorder = FakeSink(batch_size=100, flush_interval=300.0), Recorder()
    sinks = dispatcher(sink, recorder)
    await sinks.start()
    sinks.publish(rows(1, 3))
    async with asyncio.timeout(5):  # far below the flush interval: the close, not the interval, sends it
        await sinks.close()
    assert sink.batches == [[1, 2, 3]]
    assert sinks.counts.sent == 3


async def test_when_the_sink_fails_then_the_batch_is_retried_with_backoff_until_sent() -> None:
    sink, recorder = FakeSink(failures=3), Recorder()
    retry = SinkRetryConfig(initial_backoff=0.5, max_backoff=1.5)
    async with dispatcher(sink, recorder, retry=retry) as sinks:
        sinks.publish(rows(1, 2))
        await sinks.flush()
    assert recorder.sleeps == [0.5, 1.0, 1.5]
    assert sink.batches == [[1, 2]] and sink.attempts == 4
    assert sinks.counts.retried == 6 and sinks.counts.sent == 2 and sinks.counts.failed == 0


async def test_when_attempts_run_out_or_the_receiver_refuses_the_batch_then_it_is_failed() -> None:
    sink, recorder = FakeSink(failures=5), Recorder()
    async with dispatcher(sink, recorder, retry=SinkRetryConfig(max_attempts=2)) as sinks:
        sinks.publish(rows(1, 1))
        await sinks.flush()
    assert sink.attempts == 2 and sinks.counts.failed == 1 and sinks.counts.retried == 1

    refusing, recorder = FakeSink(failures=1, permanent=True), Recorder()
    async with dispatcher(refusing, recorder) as sinks:
        sinks.publish(rows(1, 1))
        await sinks.flush()
    assert refusing.attempts == 1 and recorder.sleeps == [] and sinks.counts.failed == 1


async def test_when_the_backlog_is_full_then_new_records_are_dropped_and_counted_without_blocking() -> None:
    gate = asyncio.Event()
    sink, recorder = FakeSink(batch_size=2, gate=gate), Recorder()
    async with dispatcher(sink, recorder, backlog=5) as sinks:
        for first in range(1, 13, 3):  # 12 records, the sink stuck on its first batch
            sinks.publish(rows(first, 3))
        assert sinks.backlog == {"fake": 5}
        assert sinks.counts.dropped == 7
        assert ("fake", "dropped", 1) in recorder.outcomes and ("fake", "dropped", 3) in recorder.outcomes
        gate.set()
        await sinks.flush()
    assert [i for batch in sink.batches for i in batch] == [1, 2, 3, 4, 5]
    assert sinks.counts.sent == 5


async def test_when_the_sink_is_down_at_close_then_the_drain_is_bounded_and_what_is_left_is_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sink, recorder = FakeSink(gate=asyncio.Event()), Recorder()
    sinks = dispatcher(sink, recorder, drain_timeout=0.05)
    await sinks.start()
    sinks.publish(rows(1, 4))
    async with asyncio.timeout(5):
        await sinks.close()
    assert sinks.counts.dropped == 4 and sinks.counts.sent == 0
    assert sinks.backlog == {"fake": 0} and recorder.backlog[-1] == ("fake", 0)
    sinks.publish(rows(5, 2))  # after close: counted, not queued
    assert sinks.counts.dropped == 6
    assert "audit records dropped at shutdown" in caplog.text


async def test_when_a_sink_raises_anything_then_its_worker_keeps_going() -> None:
    class Broken(FakeSink):
        async def send(self, records: Sequence[SinkRecord]) -> None:
            self.attempts += 1
            if self.attempts == 1:
                raise RuntimeError("bug")
            await super().send(records)

    sink, recorder = Broken(), Recorder()
    async with dispatcher(sink, recorder) as sinks:
        sinks.publish(rows(1, 1))
        await sinks.flush()
    assert sinks.counts.retried == 1 and sink.batches == [[1]]


def test_when_a_row_becomes_a_sink_record_then_it_is_the_leaf_fields_with_the_id() -> None:
    row = rows(7, 1)[0]
    record = SinkRecord.from_row(row)
    fields = json.loads(record.line)
    assert fields["id"] == 7 and fields["request_id"] == "req-7"
    assert fields["created_at"] == "2023-11-14T22:13:27.250000Z"
    del fields["id"]  # what is left is the leaf's data: a receiver recomputes the record's leaf hash
    assert json.dumps(fields, sort_keys=True, separators=(",", ":")).encode() == leaf_data(row)
    assert record_leaf_hash(row)  # the hash the tree holds for this row


def test_when_two_sinks_share_a_name_then_the_dispatcher_is_refused() -> None:
    with pytest.raises(ValueError, match="unique"):
        SinkDispatcher([FakeSink(), FakeSink()])


async def test_when_the_store_writes_a_batch_then_the_sinks_get_its_rows_with_their_ids(trail_url: str) -> None:
    sink = FakeSink(batch_size=1000)
    sinks = SinkDispatcher([sink])
    store = SqlAuditStore(trail_url, linger_s=0, on_written=sinks.publish)
    await sinks.start()
    await store.start()
    try:
        for i in range(5):
            store.record(trail_record(i))
        await store.flush()
        await sinks.flush()
        written = sorted(store.recent(10), key=lambda r: r["id"])
    finally:
        await store.close()
        await sinks.close()
    assert [i for batch in sink.batches for i in batch] == [r["id"] for r in written]


CARD = "4111 1111 1111 1111"
TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
POLICY = """
version: 1
clearances:
  - groups: [engineering]
    level: internal
models:
  - name: fake-model
    max_level: restricted
defaults:
  record: full
"""
"""Engineering is cleared for internal data: cards and tokens are masked on the way to the model and back."""


async def test_when_the_gateway_streams_to_a_jsonl_file_then_every_record_arrives_redacted_and_is_counted(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    out = tmp_path / "sink" / "audit.jsonl"
    fake_upstream.behaviour.reply = f"You said {CARD} and {TOKEN}."
    gw = await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        policy={"file": str(policy)},
        audit={"sinks": {"jsonl": [{"name": "file", "path": str(out)}]}},
        auth={"api_keys": {"enabled": True}},
    )
    keys = ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")
    _, key = keys.create(owner="engineering-bot", groups=["engineering"], expires_at=None)
    keys.close()
    caplog.set_level(logging.DEBUG)
    client = openai.AsyncOpenAI(base_url=gw.base_url, api_key=key, max_retries=0)
    try:
        for content in (f"card {CARD}", f"card {CARD} and {TOKEN}", "nothing here"):
            messages: list[openai.types.chat.ChatCompletionMessageParam] = [{"role": "user", "content": content}]
            await client.chat.completions.create(model="fake-model", messages=messages)
    finally:
        await client.close()
    records = await gw.records()
    await gw.app[AUDIT_SINKS].flush()
    async with aiohttp.ClientSession() as session, session.get(gw.url + "/metrics") as answer:
        metrics = await answer.text()

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(r["id"] for r in records)
    assert len(lines) == 3
    assert sorted(line["decision"] for line in lines) == ["allow", "mask", "mask"]
    assert all(line["request_text"] is not None for line in lines)  # record: full keeps the (masked) text
    text = out.read_text()
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for value in (CARD, CARD.replace(" ", ""), TOKEN):
        assert value not in text
        assert value not in logged
        assert value not in metrics
    assert 'clearance_audit_sink_records_total{outcome="sent",sink="file"} 3.0' in metrics
    assert 'clearance_audit_sink_backlog{sink="file"} 0.0' in metrics
