"""The drain on SIGTERM: readiness fails at once, new requests are served during the grace and refused after it,
streams in flight finish whole, one longer than the deadline is cut there and recorded so, every request has its
record, and the process exits 0. The end-to-end tests run a real ``clearance serve`` process in front of paced
upstream doubles (in this test's loop); the others drive the ``Drain`` of an in-process gateway."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
import yaml
from aiohttp.test_utils import make_mocked_request

from clearance.app import DRAIN
from clearance.config import DrainConfig, parse_config
from clearance.drain import was_cut
from clearance.exceptions import ConfigError
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour
from tests.conftest import GatewayFactory, RunningGateway

GRACE = 4.0
DEADLINE = 10.0
"""Seconds, in the served gateway's ``server.drain``. The short streams end about ``SHORT_EVENTS * EVENT_S`` after
they start: after the grace, inside the deadline. The long one would take far longer than the deadline."""
EVENT_S = 0.1
SHORT_EVENTS = 40
LONG_EVENTS = 2000
SHORT_STREAMS = 3
BOUND = 60.0
"""Upper bound on any one wait of these tests (start-up included)."""


def test_when_the_grace_exceeds_the_deadline_then_the_configuration_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"server": {"drain": {"grace": 10, "deadline": 5}}})

    assert any("grace" in message for _, message in info.value.errors)
    assert DrainConfig().grace <= DrainConfig().deadline <= 30  # the default fits Kubernetes' 30 s termination


# -- in process --------------------------------------------------------------------------------------------------


async def test_when_draining_then_readiness_fails_liveness_holds_and_answers_close_their_connection(
    gateway: RunningGateway,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{gateway.url}/readyz") as before:
            assert before.status == 200
            assert before.headers.get("Connection", "").lower() != "close"
        gateway.app[DRAIN].begin()
        async with session.get(f"{gateway.url}/readyz") as ready:
            assert (ready.status, await ready.json()) == (503, {"status": "draining"})
            assert ready.headers["Connection"].lower() == "close"
        async with session.get(f"{gateway.url}/healthz") as health:
            assert health.status == 200
        async with session.get(f"{gateway.url}/metrics") as metrics:
            assert "clearance_draining 1.0" in await metrics.text()


async def test_when_the_drain_cuts_then_the_requests_in_flight_are_cancelled_and_marked(
    make_gateway: GatewayFactory,
) -> None:
    async with FakeUpstream(FakeUpstreamBehaviour(events=LONG_EVENTS, event_delay_s=EVENT_S)) as slow:
        gw = await make_gateway([{"name": "slow", "base_url": slow.base_url, "models": ["fake-model"]}])
        drain = gw.app[DRAIN]
        async with asyncio.timeout(BOUND), aiohttp.ClientSession() as session:
            body = {"model": "fake-model", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
            async with session.post(f"{gw.base_url}/chat/completions", json=body) as response:
                assert (await response.content.readline()).startswith(b"data: ")
                assert drain.in_flight == 1
                assert drain.cut() == 1
                rest = await read_rest(response)
        records = await gw.records()

    assert b"data: [DONE]" not in rest
    assert drain.in_flight == 0
    [record] = records
    assert (record["status"], record["error_code"], record["stream"]) == (200, "drain_deadline", True)


async def read_rest(response: aiohttp.ClientResponse) -> bytes:
    """What is left of a stream, until it ends or is cut."""
    out = b""
    try:
        async for chunk in response.content.iter_any():
            out += chunk
    except aiohttp.ClientPayloadError:
        pass  # cut: the answer ended before its last chunk
    return out


def test_a_request_not_cut_is_not_marked() -> None:
    assert not was_cut(make_mocked_request("GET", "/"))


# -- a real process ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: asyncio.subprocess.Process
    url: str
    database: Path
    log: Path

    def records(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.database) as db:
            db.row_factory = sqlite3.Row
            rows = db.execute("SELECT request_id, endpoint, status, error_code, stream FROM audit_records").fetchall()
        return [dict(row) for row in rows]


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """``clearance serve`` in its own process, in front of a short-stream and a long-stream upstream."""
    short = FakeUpstreamBehaviour(events=SHORT_EVENTS, event_delay_s=EVENT_S, models=("short",))
    long = FakeUpstreamBehaviour(events=LONG_EVENTS, event_delay_s=EVENT_S, models=("long",))
    async with FakeUpstream(short) as short_up, FakeUpstream(long) as long_up:
        port = free_port()
        database = tmp_path / "audit.db"
        config = {
            "server": {"host": "127.0.0.1", "port": port, "drain": {"grace": GRACE, "deadline": DEADLINE}},
            "upstreams": [
                {"name": "short", "base_url": short_up.base_url, "models": ["short"]},
                {"name": "long", "base_url": long_up.base_url, "models": ["long"]},
            ],
            "database": {"url": f"sqlite:///{database}"},
        }
        path = tmp_path / "clearance.yaml"
        path.write_text(yaml.safe_dump(config))
        log = tmp_path / "gateway.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "clearance", "serve", "--config", str(path)),
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        try:
            url = f"http://127.0.0.1:{port}"
            await until_ready(url, process, log)
            yield Served(process, url, database, log)
        finally:
            if process.returncode is None:
                process.kill()
                await asyncio.wait_for(process.wait(), BOUND)


async def until_ready(url: str, process: asyncio.subprocess.Process, log: Path) -> None:
    async with asyncio.timeout(BOUND), aiohttp.ClientSession() as session:
        while True:  # bounded by the timeout
            assert process.returncode is None, log.read_text()
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.1)


def chat(model: str, stream: bool) -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": "tell me a story"}]}


@dataclass
class Stream:
    """One streamed answer, on a connection of its own: its data events, and whether it ended with ``[DONE]``."""

    events: list[bytes]
    done: bool


async def open_stream(url: str, model: str, started: asyncio.Event) -> Stream:
    """Read a whole stream (or until it is cut); ``started`` is set once its first event arrived."""
    events: list[bytes] = []
    connector = aiohttp.TCPConnector(force_close=True)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.post(f"{url}/v1/chat/completions", json=chat(model, True)) as response,
    ):
        assert response.status == 200
        try:
            async for line in response.content:  # bounded: the stream ends, or is cut at the deadline
                if line.startswith(b"data: "):
                    events.append(line[6:].strip())
                    started.set()
        except aiohttp.ClientPayloadError:
            pass
    done = bool(events) and events[-1] == b"[DONE]"
    return Stream(events[:-1] if done else events, done)


def text_of(stream: Stream) -> str:
    """The answer's text, joined from its events (the gateway's masker may regroup the upstream's pieces)."""
    return "".join(
        choices[0]["delta"].get("content") or ""
        for event in stream.events
        if (choices := orjson.loads(event).get("choices"))
    )


def upstream_text(events: int) -> str:
    """The text the upstream double streams in ``events`` content events (its reply in pieces, cycled)."""
    b = FakeUpstreamBehaviour()
    pieces = [b.reply[i : i + b.piece_chars] for i in range(0, len(b.reply), b.piece_chars)]
    return "".join(pieces[i % len(pieces)] for i in range(events))


async def until_refused(url: str, process: asyncio.subprocess.Process) -> bool:
    """Whether a new connection is refused while the process still runs (polled; bounded)."""
    host, port = url.removeprefix("http://").split(":")
    for _ in range(int(BOUND / 0.05)):
        if process.returncode is not None:
            return False
        try:
            _, writer = await asyncio.open_connection(host, int(port))
        except ConnectionRefusedError:
            return process.returncode is None
        writer.close()
        await writer.wait_closed()
        await asyncio.sleep(0.05)
    return False


async def until_draining(url: str) -> None:
    """Once the signal arrived (a moment after it is sent; bounded by the caller), ``/readyz`` answers 503."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while True:
            async with session.get(f"{url}/readyz") as ready:
                if ready.status == 503:
                    assert await ready.json() == {"status": "draining"}
                    return
                assert ready.status == 200
            await asyncio.sleep(0.01)


async def wait_exit(process: asyncio.subprocess.Process) -> int:
    return await asyncio.wait_for(process.wait(), BOUND)


async def test_when_sigterm_comes_mid_stream_then_streams_finish_the_long_one_is_cut_and_all_is_recorded(
    served: Served,
) -> None:
    url = served.url
    async with asyncio.timeout(BOUND), asyncio.TaskGroup() as group:
        started = [asyncio.Event() for _ in range(SHORT_STREAMS + 1)]
        shorts = [group.create_task(open_stream(url, "short", started[i])) for i in range(SHORT_STREAMS)]
        long = group.create_task(open_stream(url, "long", started[-1]))
        for event in started:
            await event.wait()

        served.process.send_signal(signal.SIGTERM)

        await until_draining(url)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            async with session.get(f"{url}/healthz") as health:
                assert health.status == 200
            async with session.post(f"{url}/v1/chat/completions", json=chat("short", False)) as during_grace:
                assert during_grace.status == 200  # a new request, in the grace: served
                assert during_grace.headers["Connection"].lower() == "close"
                assert (await during_grace.json())["choices"][0]["message"]["content"]
        assert await until_refused(url, served.process), served.log.read_text()

        finished = [await short for short in shorts]
        cut = await long
        code = await wait_exit(served.process)

    log = served.log.read_text()
    assert code == 0, log
    for stream in finished:
        assert stream.done, log  # whole: every event, then [DONE]
        assert text_of(stream) == upstream_text(SHORT_EVENTS)
    long_text = upstream_text(LONG_EVENTS)
    assert not cut.done and 0 < len(text_of(cut)) < len(long_text) and long_text.startswith(text_of(cut))
    records = served.records()
    assert len(records) == SHORT_STREAMS + 2  # the streams, the long one and the request in the grace
    outcomes = sorted((r["status"], r["error_code"] or "", bool(r["stream"])) for r in records)
    assert outcomes == sorted([(200, "", True)] * SHORT_STREAMS + [(200, "", False), (200, "drain_deadline", True)])
    for phase in ("draining", "stopped listening", "drain deadline", "drained"):
        assert phase in log


async def test_when_a_second_signal_comes_then_the_drain_stops_at_once_and_still_records(served: Served) -> None:
    started = asyncio.Event()
    async with asyncio.timeout(BOUND), asyncio.TaskGroup() as group:
        long = group.create_task(open_stream(served.url, "long", started))
        await started.wait()
        served.process.send_signal(signal.SIGTERM)
        await until_draining(served.url)  # the first signal arrived: the next one is the second
        served.process.send_signal(signal.SIGTERM)
        cut = await long
        code = await wait_exit(served.process)

    log = served.log.read_text()
    assert code == 0, log
    assert not cut.done
    assert "drain second signal" in log
    [record] = served.records()
    assert (record["status"], record["error_code"]) == (200, "drain_deadline")
