"""Wait mode's release time: from the moment an approver's approve call is answered to the moment the request
that waited for it (``X-Clearance-Wait``) comes back answered by the model, through real gateway processes.

    .venv/bin/python -m bench.approvals                 # 50 rounds per scenario, about a minute on 2 cores
    .venv/bin/python -m bench.approvals --rounds 5      # a smoke run
    .venv/bin/python -m bench.approvals --json out.json

Scenarios: one instance on SQLite (the in-process signal), one instance on PostgreSQL, and two instances on one
PostgreSQL schema (the request waits on the first, the approval goes through the second's admin API: released by
``LISTEN``/``NOTIFY``). Each round sends a new request holding a secret (so a new approval) through the openai SDK,
waits until it is pending, lets an approver take ``--think-ms`` (so the request is surely waiting), approves it
with one admin API call, and times the approve call's answer to the waiting request's answer. The baseline, in the
same run: the same request without the secret (allowed at once), sent end to end through the first instance. The
release time includes what the gateway does after the grant (spend it, send it upstream, relay the answer), so it
is compared with the baseline. Waiters read the store every ``poll_interval`` (1 s) too: a figure near 1 s would
mean the signal was missed. PostgreSQL scenarios run in a fresh schema of ``--postgres`` (dropped after), and are
skipped when it cannot be reached. The upstream double, each gateway and the driver (this process) are separate
processes on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import aiohttp
import openai
import orjson
import yaml
from sqlalchemy import create_engine, text

from bench import harness
from bench.event_loop import LoopKind
from bench.processes import Server, free_port
from clearance.auth.keys import ApiKeyStore
from clearance.config import parse_config
from clearance.proxy.approval_gate import WAIT_HEADER
from clearance.tasks import TaskSet

MODEL: Final = "bench-model"
TOKEN: Final = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
"""A GitHub token shape: the policy holds an engineer's request with it for approval by security."""
POSTGRES: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
POLICY: Final = {
    "version": 1,
    "clearances": [
        {"groups": ["engineering"], "level": "confidential"},
        {"groups": ["security"], "level": "restricted", "roles": ["user", "approver"]},
    ],
    "models": [{"name": MODEL, "max_level": "restricted"}],
    "rules": [
        {
            "id": "secrets-need-approval",
            "when": {"groups": ["engineering"], "types": ["GITHUB_TOKEN"]},
            "action": "require_approval",
            "approval": {"approvers": ["security"], "approvals": 1, "grant_for": "1h"},
        }
    ],
}
ROUND_TIMEOUT: Final = 30.0
"""Seconds one round may take before the run fails."""


@dataclass(frozen=True)
class Figure:
    scenario: str
    rounds: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    baseline_p50_ms: float
    """A plain (allowed) request end to end through the waiting instance, in the same scenario."""


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def gateway_config(
    port: int, database_url: str, upstream_url: str, policy_path: Path, log_level: str
) -> dict[str, Any]:
    config = {
        "server": {"host": "127.0.0.1", "port": port, "drain": {"grace": 0, "deadline": 5}},
        "upstreams": [{"name": "double", "kind": "openai", "base_url": upstream_url, "models": [MODEL]}],
        "database": {"url": database_url},
        "auth": {"api_keys": {"enabled": True}},
        "policy": {"file": str(policy_path)},
        "logging": {"level": log_level},
    }
    parse_config(config, source="benchmark configuration")  # fail here, not in the subprocess
    return config


class Cluster:
    """``instances`` gateway processes (``clearance serve``) on one database, with an engineer's key (``eve``)
    and an approver's (``sec``), created once the gateways have made the tables."""

    def __init__(
        self,
        workdir: Path,
        database_url: str,
        upstream_url: str,
        *,
        instances: int,
        loop: LoopKind,
        log_level: str = "warning",
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        policy_path = workdir / "policy.yaml"
        policy_path.write_text(yaml.safe_dump(POLICY))
        self.database_url = database_url
        self.servers: list[Server] = []
        for number in range(instances):
            home = workdir / f"gateway-{number}"
            home.mkdir(exist_ok=True)
            port = free_port()
            config = gateway_config(port, database_url, upstream_url, policy_path, log_level)
            self.servers.append(harness.gateway_server(home, port, config, loop))
        self.eve = ""
        self.sec = ""

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]

    def __enter__(self) -> Cluster:
        try:
            for server in self.servers:
                server.start()  # one after the other: one migration at a time
            keys = ApiKeyStore(self.database_url)
            try:
                self.eve = keys.create(owner="eve@example.com", groups=["engineering"], expires_at=None)[1]
                self.sec = keys.create(owner="sec@example.com", groups=["security"], expires_at=None)[1]
            finally:
                keys.close()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        for server in reversed(self.servers):
            server.stop()


def messages(content: str) -> list[Any]:
    return [{"role": "user", "content": content}]


async def pending_id(session: aiohttp.ClientSession, url: str, key: str, timeout: float = 10.0) -> str:
    """The one pending approval's id, as the approver lists it through the admin API (bounded: ``timeout``)."""
    headers = {"Authorization": f"Bearer {key}"}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        async with session.get(f"{url}/admin/v1/approvals?state=pending", headers=headers) as response:
            body = await response.json()
        if response.status != 200:
            raise RuntimeError(f"listing approvals answered {response.status}: {body}")
        if body["data"]:
            approval_id: str = body["data"][0]["id"]
            return approval_id
        await asyncio.sleep(0.005)
    raise TimeoutError("no approval became pending")


async def approve(session: aiohttp.ClientSession, url: str, key: str, approval_id: str) -> None:
    headers = {"Authorization": f"Bearer {key}"}
    async with session.post(
        f"{url}/admin/v1/approvals/{approval_id}/approve", json={"reason": "bench"}, headers=headers
    ) as response:
        body = await response.read()
    if response.status != 200:
        raise RuntimeError(f"approving answered {response.status}: {body!r}")


async def release_time(cluster: Cluster, waiter: str, approver: str, content: str, think_s: float) -> float:
    """One round: a request waits on ``waiter``, is approved through ``approver``; seconds from the approve call's
    answer to the waiting request's answer."""
    tasks = TaskSet()
    async with (
        openai.AsyncOpenAI(base_url=f"{waiter}/v1", api_key=cluster.eve, max_retries=0) as client,
        aiohttp.ClientSession() as session,
    ):
        asking = tasks.spawn(
            client.chat.completions.create(
                model=MODEL, messages=messages(content), extra_headers={WAIT_HEADER: str(ROUND_TIMEOUT)}
            )
        )
        try:
            approval_id = await pending_id(session, approver, cluster.sec)
            await asyncio.sleep(think_s)  # the approver reads the request: the caller is surely waiting by now
            await approve(session, approver, cluster.sec, approval_id)
            approved_at = time.perf_counter()
            async with asyncio.timeout(ROUND_TIMEOUT):
                answer = await asking
            released_at = time.perf_counter()
        finally:
            await tasks.cancel_all()
    if not answer.choices[0].message.content:
        raise RuntimeError("the released request got an empty answer")
    return released_at - approved_at


async def plain_time(cluster: Cluster, url: str, content: str) -> float:
    """A request that needs no approval, end to end through ``url``: the baseline."""
    async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key=cluster.eve, max_retries=0) as client:
        started = time.perf_counter()
        await client.chat.completions.create(model=MODEL, messages=messages(content))
        return time.perf_counter() - started


async def measure(cluster: Cluster, name: str, rounds: int, think_s: float) -> Figure:
    waiter, approver = cluster.urls[0], cluster.urls[-1]
    await plain_time(cluster, waiter, "warm-up")
    released: list[float] = []
    baseline: list[float] = []
    for number in range(rounds):
        salt = uuid.uuid4().hex[:8]  # a new body, so a new approval every round
        released.append(
            await release_time(cluster, waiter, approver, f"round {number} {salt}: is {TOKEN} valid?", think_s)
        )
        baseline.append(await plain_time(cluster, waiter, f"round {number} {salt}: is it valid?"))
    ms = [1000 * s for s in released]
    return Figure(
        scenario=name,
        rounds=rounds,
        p50_ms=percentile(ms, 50),
        p99_ms=percentile(ms, 99),
        max_ms=max(ms),
        baseline_p50_ms=1000 * statistics.median(baseline),
    )


@contextmanager
def postgres_schema(admin_url: str) -> Iterator[str]:
    """A fresh schema of ``admin_url``'s database (dropped after): the URL to reach it."""
    schema = f"clearance_bench_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


def postgres_reachable(admin_url: str) -> bool:
    engine = create_engine(admin_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False
    finally:
        engine.dispose()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure how fast an approval releases a request waiting for it.")
    parser.add_argument("--rounds", type=int, default=50, help="approvals per scenario (default 50)")
    parser.add_argument("--think-ms", type=float, default=50.0, help="the approver's pause before approving")
    parser.add_argument("--postgres", default=POSTGRES, help="the PostgreSQL database to make a schema in")
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every scenario; 0 when every round released its request."""
    args = parse_args(argv)
    loop = harness.event_loop(args)
    out = harness.console()
    think_s = args.think_ms / 1000.0
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        upstream = harness.bench_server(
            workdir, "upstream double", free_port(), "bench.upstream_double", loop, "--events", "5"
        )
        with harness.Run([upstream], loop, out) as run:
            upstream_url = f"{upstream.url}/v1"
            scenarios: list[tuple[str, int, str | None]] = [("1 instance, SQLite", 1, f"sqlite:///{workdir / 'gw.db'}")]
            if postgres_reachable(args.postgres):
                scenarios += [("1 instance, PostgreSQL", 1, None), ("2 instances, PostgreSQL", 2, None)]
            else:
                out.print(f"[yellow]PostgreSQL at {args.postgres} is unreachable: its scenarios are skipped[/]")
            for name, instances, url in scenarios:
                with postgres_schema(args.postgres) if url is None else _given(url) as database_url:
                    home = workdir / name.replace(" ", "-").replace(",", "")
                    with Cluster(
                        home,
                        database_url,
                        upstream_url,
                        instances=instances,
                        loop=loop,
                        log_level=args.gateway_log_level,
                    ) as cluster:
                        figures.append(asyncio.run(measure(cluster, name, args.rounds, think_s)))
        settings = run.settings(
            args,
            "clearance serve --config (generated), approvals on the database named per scenario",
            **{
                "rounds per scenario": str(args.rounds),
                "approver's pause before approving": f"{args.think_ms:g} ms",
                "measured": "approve call answered -> waiting request answered (non-stream, openai SDK)",
                "baseline": "the same request without a secret (allowed at once), end to end",
            },
        )
    for key, value in settings.items():
        out.print(f"{key}: {value}")
    out.print()
    out.print(f"{'scenario':<26} {'rounds':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'baseline p50 ms':>16}")
    for f in figures:
        out.print(
            f"{f.scenario:<26} {f.rounds:>6} {f.p50_ms:>8.1f} {f.p99_ms:>8.1f} {f.max_ms:>8.1f} "
            f"{f.baseline_p50_ms:>16.1f}"
        )
    if args.json:
        document = {"settings": settings, "figures": [asdict(f) for f in figures]}
        args.json.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
