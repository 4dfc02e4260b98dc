"""``clearance audit search|show|export|replay``: search and show through a running gateway's admin API (API keys as
credentials), export streamed from the database in bounded memory, and a recorded request sent again through the
gateway to the upstream double, its answer diffed against the recorded one."""

from __future__ import annotations

import asyncio
import csv
import io
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest
import typer
from aiohttp import web
from typer.testing import CliRunner, Result

from clearance.app import AUDIT, create_app
from clearance.audit.query import RecordFilter, iter_records
from clearance.audit.store import SqlAuditStore
from clearance.cli import app
from clearance.cli.audit_records import answer_diff, replay_body, time_bound, write_export
from clearance.config import GatewayConfig
from clearance.db.engine import make_engine
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import POLICY, People
from tests.audit.conftest import trail_record
from tests.conftest import gateway_config

FIRST_REPLY = "The build is green."


@contextmanager
def upstream_in_a_thread() -> Iterator[FakeUpstream]:
    """The upstream double on a loop of its own: the CLI under test blocks the test's thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-upstream", daemon=True)
    thread.start()
    upstream = FakeUpstream()
    upstream.behaviour.reply = FIRST_REPLY
    try:
        asyncio.run_coroutine_threadsafe(upstream.start(), loop).result(timeout=60)
        yield upstream
        asyncio.run_coroutine_threadsafe(upstream.stop(), loop).result(timeout=60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)
        loop.close()


@contextmanager
def served(config: GatewayConfig) -> Iterator[tuple[str, web.Application, asyncio.AbstractEventLoop]]:
    """The gateway on a loop of its own (as ``tests.admin.gateway.gateway_in_a_thread``), its loop given too: a
    test waits for the records to be written by flushing the store there."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="audit-gateway", daemon=True)
    thread.start()
    gateway = create_app(config)
    runner = web.AppRunner(gateway)

    async def start() -> str:
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        return f"http://{host}:{port}"

    try:
        url = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=60)
        try:
            yield url, gateway, loop
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=60)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=60)
        loop.close()


@dataclass
class Running:
    url: str
    people: People
    upstream: FakeUpstream
    gateway: web.Application
    loop: asyncio.AbstractEventLoop
    database_url: str

    def run(self, who: str | None, *args: str) -> Result:
        env = {"COLUMNS": "250", "CLEARANCE_GATEWAY": "", "CLEARANCE_API_KEY": self.people.keys[who] if who else ""}
        return CliRunner().invoke(app, ["audit", *args, "--gateway", self.url], env=env)

    def ask(self, who: str, content: str, *, stream: bool = False) -> None:
        with openai.OpenAI(base_url=self.url + "/v1", api_key=self.people.keys[who], max_retries=0) as client:
            messages: list[Any] = [{"role": "user", "content": content}]
            if stream:
                for _ in client.chat.completions.create(model="llama-internal", messages=messages, stream=True):
                    pass
            else:
                client.chat.completions.create(model="llama-internal", messages=messages)
        asyncio.run_coroutine_threadsafe(self.gateway[AUDIT].flush(), self.loop).result(timeout=60)

    def ids(self, who: str) -> list[str]:
        """The caller's records, newest first, as `audit search --mine --json` gives them."""
        result = self.run(who, "search", "--mine", "--json")
        assert result.exit_code == 0, result.output
        return [str(record["id"]) for record in orjson.loads(result.stdout)["data"]]


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    """A gateway under the example approval policy, recording every exchange in full, in front of the double."""
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "no-login"))
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.read_text() + "\ndefaults:\n  record: full\n")
    with upstream_in_a_thread() as upstream:
        config = gateway_config(
            tmp_path,
            [{"name": "fake", "base_url": upstream.base_url, "models": ["llama-internal"]}],
            policy={"file": str(policy)},
            auth={"api_keys": {"enabled": True}},
        )
        with served(config) as (url, gateway, loop):
            people = People.enrol(gateway, config.database.url)
            yield Running(url, people, upstream, gateway, loop, config.database.url)


def test_when_an_auditor_searches_then_a_table_lists_the_matching_records(running: Running) -> None:
    running.ask("sam", "mail me at sam.jones@acmecorp.io")
    running.ask("eve", "hello")

    everyone = running.run("audrey", "search", "--since", "1h")
    sams = running.run("audrey", "search", "--user", "sam", "--type", "EMAIL_ADDRESS", "--json")

    assert everyone.exit_code == 0, everyone.output
    assert "sam" in everyone.output and "eve" in everyone.output
    assert "EMAIL_ADDRESS: 1" in everyone.output
    assert [r["subject"] for r in orjson.loads(sams.stdout)["data"]] == ["sam"]


def test_when_a_caller_without_the_role_searches_everyone_then_the_refusal_is_printed(running: Running) -> None:
    result = running.run("sam", "search")

    assert result.exit_code == 1
    assert "auditor_role_required" in result.output


def test_when_a_record_is_shown_then_the_transcript_has_who_what_findings_and_decision(running: Running) -> None:
    running.ask("sam", "mail me at sam.jones@acmecorp.io")
    [record_id] = running.ids("sam")

    result = running.run("sam", "show", record_id)

    assert result.exit_code == 0, result.output
    assert f"Record {record_id}" in result.output
    assert "sam (service, api_key" in result.output
    assert "user: mail me at [EMAIL_ADDRESS]" in result.output
    assert "messages.0.content[" in result.output  # the recorded position
    assert "Decision: allow" in result.output
    assert FIRST_REPLY in result.output
    assert "sam.jones@acmecorp.io" not in result.output


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_when_sensitive_values_were_asked_then_neither_show_nor_export_holds_one(running: Running, fmt: str) -> None:
    raw = ("sam.jones@acmecorp.io", "4111 1111 1111 1111", "4111111111111111")
    running.ask("sam", f"refund {raw[1]} and mail {raw[0]}")
    [record_id] = running.ids("sam")

    shown = running.run("sam", "show", record_id)
    exported = CliRunner().invoke(app, ["audit", "export", "--format", fmt, "--db", running.database_url])

    assert shown.exit_code == exported.exit_code == 0, shown.output + exported.output
    for out in (shown.output, exported.stdout):  # the card as masked and forwarded; the email redacted
        assert "XXXX XXXX XXXX 1111" in out
        assert "[EMAIL_ADDRESS]" in out
    for value in raw:
        assert value not in shown.output
        assert value not in exported.stdout


def test_when_someone_elses_record_is_shown_then_it_is_not_found(running: Running) -> None:
    running.ask("eve", "hello")
    [record_id] = running.ids("eve")

    result = running.run("sam", "show", record_id)

    assert result.exit_code == 1
    assert "record_not_found" in result.output


def test_when_a_record_is_replayed_and_the_model_answers_the_same_then_no_diff(running: Running) -> None:
    running.ask("sam", "is the build green?")
    [record_id] = running.ids("sam")

    result = running.run("sam", "replay", record_id)

    assert result.exit_code == 0, result.output
    assert "the answer is the same as the recorded one" in result.output
    assert [r.body["messages"] for r in running.upstream.received][-1] == [
        {"role": "user", "content": "is the build green?"}
    ]
    asyncio.run_coroutine_threadsafe(running.gateway[AUDIT].flush(), running.loop).result(timeout=60)
    assert len(running.ids("sam")) == 2  # the replay went through the pipeline: recorded too


def test_when_a_streamed_record_is_replayed_and_the_model_changed_then_a_unified_diff_is_printed(
    running: Running,
) -> None:
    running.ask("sam", "is the build green?", stream=True)
    [record_id] = running.ids("sam")
    running.upstream.behaviour.reply = "The build is red."

    result = running.run("sam", "replay", record_id)

    assert result.exit_code == 3, result.output
    assert "--- recorded" in result.output and "+++ replayed" in result.output
    assert "-The build is green." in result.output
    assert "+The build is red." in result.output
    assert running.upstream.received[-1].body.get("stream") is False


def test_when_a_record_kept_no_text_then_replay_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    record = {"id": 4, "endpoint": "chat.completions", "request_text": None, "record_mode": "metadata", "model": "m"}

    with pytest.raises(typer.Exit):
        replay_body(record)

    assert "kept no request (record mode metadata)" in capsys.readouterr().err


def test_when_answers_are_diffed_then_only_the_text_is_compared() -> None:
    recorded = orjson.dumps({"id": "a", "created": 1, "choices": [{"message": {"content": "one\ntwo"}}]}).decode()

    same = list(answer_diff(recorded, {"id": "b", "created": 2, "choices": [{"message": {"content": "one\ntwo"}}]}))
    changed = list(answer_diff(recorded, {"choices": [{"message": {"content": "one\nthree"}}]}))

    assert same == []
    assert [line for line in changed if line[:1] in "+-" and line[:3] not in ("---", "+++")] == ["-two", "+three"]


def test_when_a_relative_time_is_given_then_it_is_that_long_before_now() -> None:
    assert time_bound("2h", "since", now=7200.0) == "1970-01-01T00:00:00+00:00"
    assert time_bound("2026-01-31T12:00:00Z", "since", now=0.0) == "2026-01-31T12:00:00+00:00"
    assert time_bound(None, "since", now=0.0) is None


async def _trail(url: str, count: int) -> None:
    store = SqlAuditStore(url, linger_s=0, max_batch=1000)
    await store.start()
    for i in range(count):
        store.record(replace(trail_record(i), subject=f"user-{i % 7}", request_text='{"x": "[EMAIL_ADDRESS]"}'))
    await store.flush()
    await store.close()


class CountingOut(io.StringIO):
    """An output that checks, at each record written, how far the reading ran ahead of the writing."""

    def __init__(self, fetched: list[int]) -> None:
        super().__init__()
        self.fetched = fetched
        self.written = 0
        self.most_ahead = 0

    def write(self, text: str) -> int:
        self.written += text.count("\n")
        self.most_ahead = max(self.most_ahead, sum(self.fetched) - self.written)
        return super().write(text)


async def test_when_a_large_trail_is_exported_then_memory_holds_at_most_a_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'big.db'}"
    await _trail(url, 5000)
    fetched: list[int] = []
    out = CountingOut(fetched)
    engine = make_engine(url)
    try:
        rows = iter_records(engine, RecordFilter(), page_size=200, on_page=fetched.append)
        count = write_export(rows, out, "jsonl")
    finally:
        engine.dispose()

    assert count == out.written == 5000
    assert len(fetched) == 26  # 25 full pages and the empty one that ends it
    assert out.most_ahead <= 200
    lines = out.getvalue().splitlines()
    assert [orjson.loads(line)["request_id"] for line in (lines[0], lines[-1])] == ["req-0", "req-4999"]


def _exported(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(app, ["audit", "export", "--db", f"sqlite:///{tmp_path / 'big.db'}", *args])


async def test_when_exported_as_csv_or_jsonl_then_every_matching_record_is_there_oldest_first(
    tmp_path: Path,
) -> None:
    await _trail(f"sqlite:///{tmp_path / 'big.db'}", 30)

    as_csv = _exported(tmp_path, "--format", "csv", "--user", "user-3", "--page-size", "2")
    as_jsonl = _exported(tmp_path, "--output", str(tmp_path / "out.jsonl"))

    assert as_csv.exit_code == 0, as_csv.output
    rows: list[Mapping[str, str]] = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [row["request_id"] for row in rows] == ["req-3", "req-10", "req-17", "req-24"]
    assert rows[0]["findings"] == '{"EMAIL_ADDRESS":1}'
    assert rows[0]["request_text"] == '{"x": "[EMAIL_ADDRESS]"}'
    assert as_jsonl.exit_code == 0, as_jsonl.output
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 30
    assert "30 records exported" in as_jsonl.stderr
