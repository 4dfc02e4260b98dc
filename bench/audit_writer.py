"""How many records per second the audit writer sustains, and what recording the text costs the gateway per request.

    .venv/bin/python -m bench.audit_writer                          # 20,000 records per writer scenario, 2,000
                                                                    # requests per record mode: a few minutes
    .venv/bin/python -m bench.audit_writer --records 500 --requests 50 --rounds 1    # a smoke run
    .venv/bin/python -m bench.audit_writer --json out.json

Writer: the gateway's store (``SqlAuditStore``, its default batching: 512 records a transaction, 0.1 s linger) in
this process, sent ``--records`` records at once (each as ``record: full`` keeps one: about 1 KB of redacted
request and answer text, findings and their positions), timed from the first ``record()`` to the last row
committed (``flush``), on SQLite (a file, WAL) and on the local PostgreSQL (a fresh schema, dropped after; skipped
when it cannot be reached). Variants: ``rows only`` (a writer made for this benchmark that inserts the rows with no
tree: what the Merkle tree costs), ``tree`` (the store as the gateway runs it: every record a leaf, appended in the
batch's transaction), ``tree + checkpoints`` (signed every second, as ``audit.integrity`` does) and ``tree + jsonl
sink`` (every written record also streamed to a JSON lines file, timed until the sink has written it). Each
scenario checks that every record was written.

Gateway CPU per request: two ``clearance serve`` processes, one whose policy records ``full`` and one
``metadata`` (the built-in default policy otherwise), each on its own SQLite file, in front of one upstream double.
They take turns over ``--rounds`` rounds (the machine's background load falls on both alike); in each round one
gets ``--requests`` chat requests (a few hundred bytes holding an e-mail address and a card number, which the
default policy masks) from this process at ``--concurrency``, and its process tree's CPU time (user + system, from
the OS) is read before and after, once every record of the round is in its database. The ratio full / metadata
is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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
import orjson
import yaml
from sqlalchemy import create_engine, func, select, text

from bench import harness
from bench.event_loop import LoopKind
from bench.processes import Server, free_port
from clearance.audit.checkpointer import IntegrityConfig
from clearance.audit.note import generate_key
from clearance.audit.sink_config import JsonlSinkConfig
from clearance.audit.sink_jsonl import JsonlSink
from clearance.audit.sinks import SinkDispatcher
from clearance.audit.store import SqlAuditStore
from clearance.db.tables import audit_records
from clearance.models import AuditRecord, FindingPosition, Usage
from clearance.policy.defaults import DEFAULT_POLICY
from clearance.secretref import SecretRef

POSTGRES: Final = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MODEL: Final = "bench-model"
VARIANTS: Final = ("rows only", "tree", "tree + checkpoints", "tree + jsonl sink")
KEY_VARIABLE: Final = "CLEARANCE_BENCH_AUDIT_SIGNING_KEY"
WRITE_TIMEOUT: Final = 600.0
"""Seconds one writer scenario may take before the run fails."""
ROWS_TIMEOUT: Final = 120.0
"""Seconds a gateway may take to write a round's records once its answers are in."""
PROMPT: Final = (
    "Please summarise the following support ticket for the on-call engineer. The customer, reachable at "
    "jane.roe@corp-mail.io, reports that the payment with card 4111 1111 1111 1111 was declined twice this morning "
    "although the account is in good standing; they attached the gateway's answer and ask for a call back today."
)


def sample_record(number: int) -> AuditRecord:
    """A record as ``record: full`` keeps one: the redacted request and answer, findings and their positions."""
    request = PROMPT.replace("jane.roe@corp-mail.io", "<EMAIL_ADDRESS>").replace("4111 1111 1111 1111", "<CARD>")
    return AuditRecord(
        request_id=f"bench-{number:09d}",
        started_at=1_700_000_000.0 + number / 1000,
        endpoint="chat.completions",
        method="POST",
        status=200,
        model=MODEL,
        upstream="double",
        latency_ms=12.5,
        bytes_in=len(PROMPT) + 80,
        bytes_out=900,
        usage=Usage(120, 180, 300),
        subject="eve@example.com",
        decision="mask",
        rule="default",
        reasons=("above_clearance",),
        level="restricted",
        findings={"EMAIL_ADDRESS": 1, "CREDIT_CARD": 1},
        record_mode="full",
        positions=(
            FindingPosition("EMAIL_ADDRESS", ("messages", 0, "content"), 97, 112),
            FindingPosition("CREDIT_CARD", ("messages", 0, "content"), 131, 137),
        ),
        request_text=request,
        response_text=request[::-1],
        instance="bench",
        user_agent="bench/1",
    )


class RowsOnlyStore(SqlAuditStore):
    """The store without the audit tree: rows inserted with ids from a counter (one writer), no leaves. Only for
    this benchmark, to show what the tree costs."""

    _next_id = 1

    def _insert(self, rows: list[dict[str, Any]], replayed: bool = False) -> list[bytes]:
        first, self._next_id = self._next_id, self._next_id + len(rows)
        written = [{**row, "id": first + n} for n, row in enumerate(rows)]
        with self.engine.begin() as connection:
            connection.execute(audit_records.insert(), written)
        return [b""] * len(written)  # no leaves, so no leaf hashes


@dataclass(frozen=True)
class WriterFigure:
    database: str
    variant: str
    records: int
    seconds: float
    cpu_seconds: float
    """This process's CPU time (user + system) over the scenario: the writer's thread and the event loop."""

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


async def write_records(database: str, url: str, variant: str, count: int, workdir: Path) -> WriterFigure:
    """One writer scenario: ``count`` records through a store of ``variant`` on ``url``."""
    sinks: SinkDispatcher | None = None
    integrity = None
    if variant == "tree + checkpoints":
        integrity = IntegrityConfig(signing_key=SecretRef(env=KEY_VARIABLE), checkpoint_interval=1.0)
    if variant == "tree + jsonl sink":
        path = workdir / f"sink-{uuid.uuid4().hex[:8]}.jsonl"
        sinks = SinkDispatcher([JsonlSink(JsonlSinkConfig(path=path), "jsonl")], backlog=count)
    kind = RowsOnlyStore if variant == "rows only" else SqlAuditStore
    store = kind(url, integrity=integrity, on_written=None if sinks is None else sinks.publish)
    records = [sample_record(n) for n in range(count)]
    if sinks is not None:
        await sinks.start()
    await store.start()
    try:
        started, cpu_started = time.perf_counter(), time.process_time()
        async with asyncio.timeout(WRITE_TIMEOUT):
            for record in records:
                store.record(record)
            await store.flush()
            if sinks is not None:
                await sinks.flush()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        await store.close()
        if sinks is not None:
            await sinks.close()
    written = count_rows(url)
    if written != count:
        raise RuntimeError(f"{database}, {variant}: {written} rows written of {count}")
    if sinks is not None and sinks.counts.sent != count:
        raise RuntimeError(f"{database}, {variant}: the sink got {sinks.counts.sent} records of {count}")
    return WriterFigure(database, variant, count, seconds, cpu)


def count_rows(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(audit_records)).scalar_one())
    finally:
        engine.dispose()


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


@contextmanager
def database(kind: str, workdir: Path, postgres: str) -> Iterator[str]:
    if kind == "PostgreSQL":
        with postgres_schema(postgres) as url:
            yield url
    else:
        yield f"sqlite:///{workdir / f'writer-{uuid.uuid4().hex[:8]}.db'}"


@dataclass(frozen=True)
class CpuFigure:
    record_mode: str
    requests: int
    cpu_seconds: float

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else 0.0


def gateway_config(port: int, upstream_url: str, db_path: Path, policy_path: Path, log_level: str) -> dict[str, Any]:
    config = harness.gateway_config(port, {"double": (0, MODEL)}, db_path, log_level)
    config["upstreams"][0]["base_url"] = upstream_url
    config["policy"] = {"file": str(policy_path)}
    return config


def recording_gateway(workdir: Path, mode: str, upstream_url: str, loop: LoopKind, log_level: str) -> Server:
    """``clearance serve`` with the built-in default policy, its record mode set to ``mode``."""
    home = workdir / f"gateway-{mode}"
    home.mkdir()
    policy = {**DEFAULT_POLICY, "defaults": {**DEFAULT_POLICY["defaults"], "record": mode}}  # type: ignore[dict-item]
    policy_path = home / "policy.yaml"
    policy_path.write_text(yaml.safe_dump(policy))
    port = free_port()
    config = gateway_config(port, upstream_url, home / "audit.db", policy_path, log_level)
    return harness.gateway_server(home, port, config, loop)


async def drive(url: str, requests: int, concurrency: int) -> None:
    """``requests`` chat requests to ``url``, ``concurrency`` at a time; each must be answered 200."""
    body = orjson.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]})
    headers = {"Content-Type": "application/json"}
    left = list(range(requests))

    async def worker(session: aiohttp.ClientSession) -> None:
        while left:
            left.pop()
            async with session.post(f"{url}{harness.CHAT_PATH}", data=body, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"the gateway answered {answer.status}")

    async with aiohttp.ClientSession() as session, asyncio.timeout(WRITE_TIMEOUT):
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


def wait_for_rows(db_path: Path, expected: int) -> None:
    """Until the gateway has written ``expected`` records (bounded: ``ROWS_TIMEOUT``)."""
    deadline = time.monotonic() + ROWS_TIMEOUT
    while time.monotonic() < deadline:
        if harness.audit_rows(db_path) >= expected:
            return
        time.sleep(0.05)
    raise TimeoutError(f"{db_path}: fewer than {expected} records written after {ROWS_TIMEOUT:g}s")


def cpu_round(server: Server, db_path: Path, requests: int, concurrency: int, written: int) -> float:
    """Gateway CPU seconds for ``requests`` requests, their records written included."""
    before = server.cpu_seconds()
    asyncio.run(drive(server.url, requests, concurrency))
    wait_for_rows(db_path, written + requests)
    return server.cpu_seconds() - before


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Measure the audit writer's throughput and recording's CPU cost.")
    parser.add_argument("--records", type=int, default=20_000, help="records per writer scenario (default 20000)")
    parser.add_argument("--requests", type=int, default=1_000, help="requests per record mode per round")
    parser.add_argument("--rounds", type=int, default=2, help="turns each record mode takes (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--postgres", default=POSTGRES, help="the PostgreSQL database to make a schema in")
    parser.add_argument("--skip-cpu", action="store_true", help="measure only the writer")
    harness.add_process_options(parser)
    args = parser.parse_args(argv)
    for name in ("records", "requests", "rounds", "concurrency"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run every scenario; 0 when every record was written and every request answered."""
    args = parse_args(argv)
    loop = harness.event_loop(args)
    out = harness.console()
    os.environ.setdefault(KEY_VARIABLE, generate_key("bench.example/audit")[0])
    writer: list[WriterFigure] = []
    cpu: list[CpuFigure] = []
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        databases = ["SQLite"]
        if postgres_reachable(args.postgres):
            databases.append("PostgreSQL")
        else:
            out.print(f"[yellow]PostgreSQL at {args.postgres} is unreachable: its scenarios are skipped[/]")
        for kind in databases:
            for variant in VARIANTS:
                with database(kind, workdir, args.postgres) as url:
                    writer.append(asyncio.run(write_records(kind, url, variant, args.records, workdir)))
        servers: list[Server] = []
        upstream = harness.bench_server(workdir, "upstream double", free_port(), "bench.upstream_double", loop)
        if not args.skip_cpu:
            upstream_url = f"{upstream.url}/v1"
            modes = ("full", "metadata")
            servers = [recording_gateway(workdir, m, upstream_url, loop, args.gateway_log_level) for m in modes]
        with harness.Run([upstream, *servers], loop, out) as run:
            if servers:
                totals = dict.fromkeys(modes, 0.0)
                written = dict.fromkeys(modes, 0)
                for mode, server in zip(modes, servers, strict=True):  # warm-up: imports, caches, first batches
                    written[mode] = min(50, args.requests)
                    asyncio.run(drive(server.url, written[mode], args.concurrency))
                    wait_for_rows(server.log_path.parent / "audit.db", written[mode])
                for _ in range(args.rounds):
                    for mode, server in zip(modes, servers, strict=True):
                        db_path = server.log_path.parent / "audit.db"
                        totals[mode] += cpu_round(server, db_path, args.requests, args.concurrency, written[mode])
                        written[mode] += args.requests
                cpu = [CpuFigure(m, args.requests * args.rounds, totals[m]) for m in modes]
            settings = run.settings(
                args,
                "clearance serve --config (generated), SQLite, built-in default policy with defaults.record set",
                **{
                    "records per writer scenario": str(args.records),
                    "writer": "SqlAuditStore defaults (512 records a transaction, 0.1 s linger), in this process",
                    "requests per record mode": f"{args.requests} x {args.rounds} rounds at concurrency "
                    f"{args.concurrency}",
                },
            )
    for key, value in settings.items():
        out.print(f"{key}: {value}")
    out.print()
    out.print(f"{'database':<11} {'writer':<20} {'records':>8} {'seconds':>8} {'records/s':>10} {'CPU s':>7}")
    for w in writer:
        out.print(
            f"{w.database:<11} {w.variant:<20} {w.records:>8} {w.seconds:>8.2f} {w.records_per_s:>10.0f} "
            f"{w.cpu_seconds:>7.2f}"
        )
    if cpu:
        out.print()
        out.print(f"{'record mode':<12} {'requests':>8} {'gateway CPU s':>14} {'CPU ms/request':>15}")
        for c in cpu:
            out.print(f"{c.record_mode:<12} {c.requests:>8} {c.cpu_seconds:>14.2f} {c.cpu_ms_per_request:>15.3f}")
        full, metadata = cpu[0].cpu_ms_per_request, cpu[1].cpu_ms_per_request
        out.print(f"full / metadata CPU per request: {full / metadata if metadata else float('nan'):.2f}")
    if args.json:
        document = {
            "settings": settings,
            "writer": [asdict(w) | {"records_per_s": w.records_per_s} for w in writer],
            "cpu": [asdict(c) | {"cpu_ms_per_request": c.cpu_ms_per_request} for c in cpu],
        }
        args.json.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
