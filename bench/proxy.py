"""The gateway's overhead, in one run: the same upstream double reached directly (the baseline), through a plain
aiohttp pass-through proxy (the floor for a Python proxy) and through the Clearance gateway (``clearance serve``
with a generated config, auditing to a temporary SQLite file).

    .venv/bin/python -m bench.proxy              # the full run, about 75 s on 2 cores
    .venv/bin/python -m bench.proxy --quick      # shorter measurements, for a smoke run (about 20 s)
    .venv/bin/python -m bench.proxy --json out.json

The upstream double, the plain proxy, the gateway and the load generator each run in a process of their own, all
on loopback. Each server's CPU time comes from the OS for its whole process tree, read before and after each
round. Every scenario (whole or streamed chat answers, at each concurrency) is warmed up, then measured in rounds
in which the three targets take turns, so a change in the machine's background load falls on all three alike.
The exit status is 1 when any request failed or the gateway did not audit every request it served.
See docs/benchmark-proxy.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from bench import harness
from bench.figures import GATEWAY, compare
from bench.processes import GatewayProfile, LoadGenerator, free_port
from bench.report import print_report


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the Clearance gateway's overhead against a plain aiohttp proxy and going direct.",
    )
    harness.add_round_options(parser, rounds=4, concurrency="1,16,64", events=40)
    harness.add_process_options(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every request succeeded and the gateway audited every one, else 1."""
    args = parse_args(argv)
    loop = harness.event_loop(args)
    plan = harness.round_plan(args, rounds=4)
    out = harness.console()
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        up_port, plain_port, gw_port = free_port(), free_port(), free_port()
        events = ("--events", str(plan.events))
        upstream = harness.bench_server(workdir, "upstream double", up_port, "bench.upstream_double", loop, *events)
        relay = ("--upstream", upstream.url)
        plain = harness.bench_server(workdir, "plain proxy", plain_port, "bench.plain_proxy", loop, *relay)
        upstreams = {"double": (up_port, "bench-model")}
        config = harness.gateway_config(gw_port, upstreams, workdir / "audit.db", args.gateway_log_level)
        gateway = harness.gateway_server(workdir, gw_port, config, loop)
        with (
            harness.Run([upstream, plain, gateway], loop, out) as run,
            LoadGenerator(loop) as loadgen,
            GatewayProfile(args.py_spy, gateway.pid),
        ):
            bench = harness.Bench(plan, upstream, plain, gateway, loadgen)
            measurements = bench.run(out)
        recorded = harness.audit_rows(workdir / "audit.db")
    comparisons = compare(measurements)
    settings = run.settings(
        args,
        "clearance serve --config (generated), audit to SQLite (WAL) in a temp dir",
        **{
            "audit records written / requests sent to the gateway": f"{recorded} / {bench.sent[GATEWAY]}",
            "chat prompt": "2048-byte JSON body (system + user message)",
            "streamed answer": f"{plan.events} content events + finish + usage + [DONE] (SSE)",
            "per target and scenario": f"{plan.rounds} rounds of at most {plan.requests} requests or "
            f"{plan.seconds}s, after a warm-up",
        },
    )
    print_report(out, settings, measurements, comparisons)
    if args.json:
        harness.write_json(
            args.json,
            settings,
            plan,
            measurements=harness.measurements_json(measurements),
            comparisons=[
                asdict(c) | {"cpu_bar_met": c.cpu_bar_met, "latency_bar_met": c.latency_bar_met} for c in comparisons
            ],
        )
    errors = sum(m.errors for m in measurements)
    return 1 if errors or recorded != bench.sent[GATEWAY] else 0


if __name__ == "__main__":
    sys.exit(main())
