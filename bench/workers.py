"""One host, every core: requests per second of the gateway at 1 and N workers (``clearance serve --workers``),
against the plain aiohttp pass-through at the same worker counts (``bench.plain_proxy --workers``), in one run,
whole and streamed answers.

    .venv/bin/python -m bench.workers              # N = the usable cores (at least 2), about 50 s
    .venv/bin/python -m bench.workers --quick      # a smoke run (one round each), about 30 s on a busy 2-core machine
    .venv/bin/python -m bench.workers --workers 4 --json out.json

Four servers under test (the gateway and the plain proxy, each with 1 and with N workers) take turns in every
round, in front of one upstream double that itself runs N processes on its port, so it is not what limits them.
Each server's CPU is its whole process tree's (supervisor and workers). The ratios say how each scales (N workers'
requests/s over 1 worker's) and how far the gateway is from the floor at each worker count. On a machine with
fewer free cores than N plus the upstream and the load generator need, the figures show that machine's limit, not
the gateway's: read them with the run's load average and core count. The exit status is 1 when any request failed
or a gateway did not audit every request it served. See docs/scaling.md.
"""

from __future__ import annotations

import argparse
import http.client
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml
from rich.table import Table

from bench import harness
from bench.event_loop import LoopKind
from bench.figures import Measurement
from bench.processes import LoadGenerator, Server, free_port
from bench.report import measurements_table, settings_table
from clearance.workers import worker_count

PLAIN = "plain proxy"
GATEWAY = "gateway"
READY_PROBES = 8
"""Fresh connections in a row that ``wait_until_serving`` needs answered, per worker: each lands on one worker's
socket (by the kernel's hash), so this many make it all but certain every worker answers."""
READY_TIMEOUT_S = 60.0


def target(kind: str, workers: int) -> str:
    return f"{kind} x{workers}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Requests/s of the gateway and the plain proxy at 1 and N workers.")
    harness.add_round_options(parser, rounds=2, concurrency="16", events=40)
    parser.add_argument("--workers", type=int, help="N (default: the usable cores, at least 2)")
    harness.add_process_options(parser)
    return parser.parse_args(argv)


def plan_for(args: argparse.Namespace) -> harness.Plan:
    """The default plan, shortened for ``--quick`` to one round per target (a 15 s smoke run)."""
    plan = harness.round_plan(args, rounds=2)
    if args.quick and args.rounds is None:
        plan = harness.Plan(**(asdict(plan) | {"rounds": 1, "warmup_seconds": 0.2}))
    return plan


def wait_until_serving(server: Server, workers: int, timeout_s: float = READY_TIMEOUT_S) -> None:
    """Wait until ``/healthz`` answers on ``READY_PROBES * workers`` fresh connections in a row: the supervisor
    listens before its workers are up (connections wait in the backlog), so an open port is not enough."""
    deadline = time.monotonic() + timeout_s
    answered = 0
    while answered < READY_PROBES * workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.name} did not serve within {timeout_s}s:\n{server.log_tail()}")
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=1.0)
        try:
            connection.request("GET", "/healthz")
            answered = answered + 1 if connection.getresponse().status == 200 else 0
        except OSError:
            answered = 0
        finally:
            connection.close()


class WorkersBench(harness.Bench):
    """The rounds of ``harness.Bench`` over the four servers (no direct target: the question is scaling)."""

    def __init__(self, plan: harness.Plan, upstream: Server, servers: dict[str, Server], loadgen: LoadGenerator):
        super().__init__(plan, upstream, servers[target(PLAIN, 1)], servers[target(GATEWAY, 1)], loadgen)
        self.proxies = dict(servers)
        self.targets = tuple(servers)
        self.sent = dict.fromkeys(servers, 0)


@dataclass(frozen=True)
class Scaling:
    """One answer mode at one concurrency: requests/s ratios."""

    stream: bool
    concurrency: int
    gateway_scaling: float
    """The gateway's requests/s with N workers over its requests/s with 1."""
    plain_scaling: float
    gateway_vs_plain_1: float
    """The gateway's requests/s over the plain proxy's, both with 1 worker."""
    gateway_vs_plain_n: float


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def scaling(measurements: Sequence[Measurement], workers: int) -> list[Scaling]:
    rate = {(m.target, m.stream, m.concurrency): m.requests_per_s for m in measurements}
    scenarios = sorted({(m.stream, m.concurrency) for m in measurements})
    out = []
    for stream, concurrency in scenarios:
        gw1, gwn = rate[target(GATEWAY, 1), stream, concurrency], rate[target(GATEWAY, workers), stream, concurrency]
        pl1, pln = rate[target(PLAIN, 1), stream, concurrency], rate[target(PLAIN, workers), stream, concurrency]
        out.append(Scaling(stream, concurrency, _ratio(gwn, gw1), _ratio(pln, pl1), _ratio(gw1, pl1), _ratio(gwn, pln)))
    return out


def scaling_table(rows: Sequence[Scaling], workers: int) -> Table:
    table = Table(title=f"Requests/s ratios: {workers} workers against 1, and the gateway against the plain proxy")
    for column in ("answer", "conc.", f"gateway x{workers}/x1", f"plain x{workers}/x1", "gateway/plain x1"):
        table.add_column(column, justify="left" if column == "answer" else "right")
    table.add_column(f"gateway/plain x{workers}", justify="right")
    for row in rows:
        table.add_row(
            "stream" if row.stream else "whole",
            str(row.concurrency),
            f"{row.gateway_scaling:.2f}x",
            f"{row.plain_scaling:.2f}x",
            f"{row.gateway_vs_plain_1:.2f}x",
            f"{row.gateway_vs_plain_n:.2f}x",
        )
    return table


def gateway_server(workdir: Path, workers: int, upstream_port: int, loop: LoopKind, log_level: str) -> Server:
    """``clearance serve --workers``, auditing to its own SQLite file (``<workdir>/audit-<workers>.db``)."""
    port = free_port()
    config = harness.gateway_config(
        port, {"double": (upstream_port, "bench-model")}, workdir / f"audit-{workers}.db", log_level
    )
    config["server"]["workers"] = workers
    path = workdir / f"clearance-{workers}.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-c", harness.GATEWAY_LAUNCHER, loop, "serve", "--config", str(path)]
    return Server(target(GATEWAY, workers), argv, port, workdir / f"gateway-{workers}.log")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every request succeeded and each gateway audited every request, else 1."""
    args = parse_args(argv)
    loop = harness.event_loop(args)
    plan = plan_for(args)
    workers = args.workers or max(2, worker_count("auto"))
    out = harness.console()
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        up_port = free_port()
        options = ("--events", str(plan.events), "--workers", str(workers))
        upstream = harness.bench_server(workdir, "upstream double", up_port, "bench.upstream_double", loop, *options)
        servers: dict[str, Server] = {}
        for count in (1, workers):
            relay = ("--upstream", upstream.url, "--workers", str(count))
            name = target(PLAIN, count)
            servers[name] = harness.bench_server(workdir, name, free_port(), "bench.plain_proxy", loop, *relay)
            gateway = gateway_server(workdir, count, up_port, loop, args.gateway_log_level)
            servers[gateway.name] = gateway
        with harness.Run([upstream, *servers.values()], loop, out) as run, LoadGenerator(loop) as loadgen:
            for count in (1, workers):
                wait_until_serving(servers[target(GATEWAY, count)], count)
            bench = WorkersBench(plan, upstream, servers, loadgen)
            measurements = bench.run(out)
        recorded = {count: harness.audit_rows(workdir / f"audit-{count}.db") for count in (1, workers)}
    sent = {count: bench.sent[target(GATEWAY, count)] for count in (1, workers)}
    rows = scaling(measurements, workers)
    settings = run.settings(
        args,
        f"clearance serve --workers 1 and --workers {workers}, audit to SQLite (WAL) in a temp dir",
        **{
            "workers (N)": workers,
            "audit records written / requests sent": ", ".join(
                f"x{count}: {recorded[count]} / {sent[count]}" for count in (1, workers)
            ),
            "upstream double": f"{workers} processes on one port (SO_REUSEPORT)",
            "per target and scenario": f"{plan.rounds} rounds of at most {plan.requests} requests or "
            f"{plan.seconds}s, after a warm-up; the four targets take turns",
        },
    )
    out.print(settings_table(settings))
    out.print(measurements_table(measurements))
    out.print(scaling_table(rows, workers))
    if args.json:
        harness.write_json(
            args.json,
            settings,
            plan,
            measurements=harness.measurements_json(measurements),
            scaling=[asdict(row) for row in rows],
        )
    errors = sum(m.errors for m in measurements)
    stopped_cleanly = all(run.exit_codes.get(target(GATEWAY, count)) in (0, None) for count in (1, workers))
    return 1 if errors or recorded != sent or not stopped_cleanly else 0


if __name__ == "__main__":
    sys.exit(main())
