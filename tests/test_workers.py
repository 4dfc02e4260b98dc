"""``clearance serve --workers N``: a supervisor and N worker processes on one port, for real (loopback, bounded).

The end-to-end tests start the real command line as a process, with an upstream double in the test's own loop;
every wait is bounded, no figure depends on time."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import aiohttp
import orjson
import prometheus_client
import psutil  # type: ignore[import-untyped,unused-ignore]
import pytest
import yaml
from sqlalchemy import select

from clearance.audit.verify import load_checkpoints, read_trail, verify
from clearance.config import parse_config
from clearance.db.engine import make_engine
from clearance.db.tables import audit_records
from clearance.exceptions import ConfigError
from clearance.observability.metrics import MULTIPROCESS_ENV, GatewayMetrics
from clearance.policy.defaults import DEFAULT_POLICY
from clearance.testing.fake_upstream import FakeUpstream
from clearance.workers import Supervisor, bind_sockets, check_shareable, worker_count
from tests.audit.conftest import ORIGIN, make_signer

START_TIMEOUT_S = 90.0
"""Bound on the supervisor's start: it migrates, then two fresh interpreters import the gateway (slow on a busy
machine)."""
STOP_TIMEOUT_S = 45.0
BODY = {"model": "fake-model", "messages": [{"role": "user", "content": "hello"}]}


def test_auto_is_the_cpus_this_process_may_run_on() -> None:
    assert worker_count("auto") == len(os.sched_getaffinity(0))
    assert worker_count(3) == 3


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:", "sqlite:///:memory:?cache=shared"])
def test_when_the_database_is_sqlite_in_memory_then_workers_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="in-memory") as caught:
        check_shareable(parse_config({"database": {"url": url}}))
    assert caught.value.errors[0][0] == "database.url"


def test_a_database_file_can_be_shared(tmp_path: Path) -> None:
    check_shareable(parse_config({"database": {"url": f"sqlite:///{tmp_path / 'a.db'}"}}))


def test_when_the_port_is_0_then_every_slot_listens_on_the_one_port_chosen() -> None:
    slots = bind_sockets("127.0.0.1", 0, 3)
    try:
        ports = {sock.getsockname()[1] for group in slots for sock in group}
        assert len(ports) == 1
        assert ports != {0}
        assert all(sock.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for group in slots for sock in group)
        with socket.create_connection(("127.0.0.1", ports.pop()), timeout=5):
            pass  # the kernel queues it on one of the slots, which all listen
    finally:
        for group in slots:
            for sock in group:
                sock.close()


def test_every_gauge_adds_up_over_the_live_workers() -> None:
    """The mechanism, not a list: a gauge added to GatewayMetrics later is summed over workers too."""
    metrics = GatewayMetrics()
    gauges = [value for value in vars(metrics).values() if isinstance(value, prometheus_client.Gauge)]
    assert len(gauges) >= 4
    assert {gauge._multiprocess_mode for gauge in gauges} == {"livesum"}


@dataclass
class Gateway:
    process: asyncio.subprocess.Process
    url: str
    log: Path

    def workers(self) -> list[int]:
        return [p.pid for p in psutil.Process(self.process.pid).children() if p.status() != psutil.STATUS_ZOMBIE]


async def _listening_url(log: Path, process: asyncio.subprocess.Process) -> str:
    """The supervisor's ``listening`` line (port 0 resolved), once every worker said it is ready."""
    ready = 0
    url = None
    async with asyncio.timeout(START_TIMEOUT_S):
        while True:
            text = log.read_text() if log.exists() else ""
            for line in text.splitlines():
                if line.startswith("{"):
                    entry = orjson.loads(line)
                    if entry.get("logger") == "clearance.workers" and entry["msg"] == "listening":
                        url = entry["url"]
            ready = text.count('"msg":"worker ready"')
            if url is not None and ready >= 2:
                return str(url)
            if process.returncode is not None:
                raise AssertionError(f"the supervisor exited with {process.returncode}:\n{text}")
            await asyncio.sleep(0.1)


@asynccontextmanager
async def supervisor(tmp_path: Path, config: dict[str, object], workers: int = 2) -> AsyncIterator[Gateway]:
    path = tmp_path / "clearance.yaml"
    path.write_text(yaml.safe_dump(config))
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "clearance",
            "serve",
            "--config",
            str(path),
            "--workers",
            str(workers),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=out,
        )
    try:
        yield Gateway(process, await _listening_url(log, process), log)
    finally:
        if process.returncode is None:
            for pid in Gateway(process, "", log).workers():
                os.kill(pid, signal.SIGKILL)
            process.kill()
            await process.wait()


def _config(tmp_path: Path, upstream: FakeUpstream) -> dict[str, object]:
    key = tmp_path / "signer.key"
    key.write_text(make_signer().secret_key_string())
    return {
        "server": {"host": "127.0.0.1", "port": 0},
        "upstreams": [{"name": "fake", "base_url": upstream.base_url, "models": ["fake-model"]}],
        "database": {"url": f"sqlite:///{tmp_path / 'audit.db'}"},
        "audit": {
            "integrity": {
                "signing_key": {"file": str(key)},
                "origin": ORIGIN,
                "checkpoint_interval": 0.2,
                "export": {"directory": str(tmp_path / "checkpoints")},
            }
        },
    }


async def _chat(url: str, count: int, concurrency: int = 8) -> list[str]:
    """``count`` chat requests, each on a connection of its own (so the kernel spreads them over the workers);
    the request ids of the answers, all of which must be 200."""
    ids: list[str] = []
    queue = iter(range(count))
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def client() -> None:
            for _ in queue:
                async with session.post(url + "/v1/chat/completions", json=BODY) as response:
                    assert response.status == 200, await response.text()
                    ids.append(response.headers["X-Request-ID"])

        async with asyncio.timeout(120):
            await asyncio.gather(*(client() for _ in range(concurrency)))
    return ids


async def _requests_counted(url: str) -> float:
    async with aiohttp.ClientSession() as session, session.get(url + "/metrics") as response:
        text = await response.text()
    pattern = r'^clearance_requests_total\{endpoint="chat\.completions",status="200"\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, re.MULTILINE))


async def _until(predicate: object, what: str, timeout: float = START_TIMEOUT_S) -> None:
    assert callable(predicate)
    try:
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110 (another process's state: nothing to await)
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"not within {timeout}s: {what}") from None


async def test_two_workers_serve_one_port_reload_survive_a_kill_and_stop_cleanly(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(yaml.safe_dump(DEFAULT_POLICY))
    config = _config(tmp_path, fake_upstream) | {"policy": {"file": str(policy), "reload_interval": 3600}}
    async with supervisor(tmp_path, config) as gateway:
        first = gateway.workers()
        assert len(first) == 2

        ids = await _chat(gateway.url, 240)
        # every worker writes the same metrics directory: any one's /metrics counts all the requests
        assert {await _requests_counted(gateway.url) for _ in range(4)} == {240.0}

        policy.write_text(yaml.safe_dump(DEFAULT_POLICY | {"description": "changed"}))
        gateway.process.send_signal(signal.SIGHUP)  # no file watch for an hour: only the signal reloads
        await _until(lambda: gateway.log.read_text().count('"msg":"policy reloaded"') == 2, "both workers reload")

        os.kill(first[0], signal.SIGKILL)
        await _until(lambda: first[0] not in gateway.workers() and len(gateway.workers()) == 2, "a replacement")
        await _until(lambda: gateway.log.read_text().count('"msg":"worker ready"') >= 3, "the replacement ready")
        ids += await _chat(gateway.url, 60)
        # the killed worker's counts stay in the sum
        assert await _requests_counted(gateway.url) == 300.0

        workers = gateway.workers()
        gateway.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(STOP_TIMEOUT_S):
            assert await gateway.process.wait() == 0
        assert not [pid for pid in workers if psutil.pid_exists(pid) and psutil.Process(pid).status() != "zombie"]
        assert "worker died; restarting it" in gateway.log.read_text()

    engine = make_engine(f"sqlite:///{tmp_path / 'audit.db'}")
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(audit_records.c.request_id, audit_records.c.instance)).all()
        trail = read_trail(engine)
    finally:
        engine.dispose()
    recorded = [row.request_id for row in rows]
    assert sorted(recorded) == sorted(ids)  # every answer has exactly one record, and nothing else is recorded
    instances = {row.instance for row in rows}
    assert len(instances) >= 2  # host:pid: more than one worker served
    saved, bad = load_checkpoints(tmp_path / "checkpoints", trail.notes, [make_signer().verifier()], origin=ORIGIN)
    assert bad == []
    assert saved
    report = verify(trail, saved)
    assert report.ok, report.findings


async def test_when_workers_cannot_start_then_the_supervisor_gives_up_promptly(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules: [this is not a policy\n")
    config = _config(tmp_path, fake_upstream) | {"policy": {"file": str(policy)}}
    path = tmp_path / "clearance.yaml"
    path.write_text(yaml.safe_dump(config))
    log = tmp_path / "gateway.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "clearance", "serve", "--config", str(path), "--workers", "2", stderr=out
        )
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            status = await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    text = log.read_text()
    assert status == 2, text  # the workers' own status: an invalid configuration
    assert "giving up" in text
    assert text.count('"msg":"worker died; restarting it"') < 2  # gave up instead of looping


class FakeWorker:
    """Stands for a worker's process: records the signals it is sent."""

    def __init__(self) -> None:
        self.returncode: int | None = None
        self.signals: list[int] = []

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)


async def test_stop_signals_are_forwarded_twice_the_sockets_closed_at_the_first_and_the_third_kills(
    tmp_path: Path,
) -> None:
    slots = bind_sockets("127.0.0.1", 0, 2)
    supervisor = Supervisor(parse_config({}), slots, str(tmp_path))
    workers = [FakeWorker(), FakeWorker()]
    for slot, worker in zip(supervisor._slots, workers, strict=True):
        slot.process = cast(asyncio.subprocess.Process, worker)

    supervisor._forward(signal.SIGHUP)  # a policy reload reaches every worker
    supervisor.stop(signal.SIGINT)
    assert [w.signals for w in workers] == [[signal.SIGHUP, signal.SIGINT]] * 2
    assert all(sock.fileno() == -1 for group in slots for sock in group)  # new connections refused, not queued
    workers[1].returncode = 0  # one has drained and exited: it is not signalled again
    supervisor.stop(signal.SIGTERM)  # the second: each worker cuts its drain short (and still flushes its records)
    assert workers[0].signals == [signal.SIGHUP, signal.SIGINT, signal.SIGTERM]
    supervisor.stop(signal.SIGTERM)
    assert workers[0].signals[-1] == signal.SIGKILL
    assert workers[1].signals == [signal.SIGHUP, signal.SIGINT]


async def test_when_the_supervisor_is_killed_then_no_worker_is_left_serving(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    async with supervisor(tmp_path, _config(tmp_path, fake_upstream)) as gateway:
        workers = [psutil.Process(pid) for pid in gateway.workers()]
        assert len(workers) == 2
        gateway.process.kill()  # SIGKILL: it cannot forward anything
        await gateway.process.wait()
        _, alive = await asyncio.to_thread(psutil.wait_procs, workers, STOP_TIMEOUT_S)
        for orphan in alive:  # not left behind when the property fails
            orphan.kill()
        assert alive == []  # each got SIGTERM when its parent died (PR_SET_PDEATHSIG)


RENDER_IN_A_WORKER = """
import sys
from prometheus_client.core import GaugeMetricFamily
from clearance.observability.metrics import GatewayMetrics

class ReadAtScrape:
    def collect(self):
        yield GaugeMetricFamily("clearance_test_shared", "Read from a shared store at scrape time.", value=7)

metrics = GatewayMetrics()
metrics.registry.register(ReadAtScrape())
metrics.observe("chat.completions", 200, 0.01)
metrics.streams_in_flight.set(int(sys.argv[1]))
sys.stdout.write(metrics.render().decode())
"""


def _sample(text: str, name: str) -> float:
    found = re.findall(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert len(found) == 1, text
    return float(found[0])


def test_a_worker_renders_every_worker_s_files_and_its_own_scrape_time_collectors(tmp_path: Path) -> None:
    """The mechanism, in real processes (prometheus_client picks its file-backed values at import): two workers'
    counters and gauges add up in either one's scrape, and a collector with no file still answers."""
    env = {**os.environ, MULTIPROCESS_ENV: str(tmp_path)}
    outputs = [
        subprocess.run(
            [sys.executable, "-c", RENDER_IN_A_WORKER, str(streams)],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        for streams in (2, 3)
    ]
    # the first worker exited without mark_process_dead: its live gauge still counts (the supervisor marks it)
    second = outputs[1]
    assert _sample(second, 'clearance_requests_total{endpoint="chat.completions",status="200"}') == 2.0
    assert _sample(second, "clearance_streams_in_flight") == 5.0
    assert _sample(second, "clearance_test_shared") == 7.0
    assert second.count("# TYPE clearance_requests") == 1  # the summed family only, not this process's too
