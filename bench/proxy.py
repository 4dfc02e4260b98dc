"""The gateway's overhead, in one run: the same upstream double reached directly (the baseline), through a plain
aiohttp pass-through proxy (the floor for a Python proxy) and through the Clearance gateway (``clearance serve``
with a generated config, auditing to a temporary SQLite file).

    .venv/bin/python bench/proxy.py              # the full run, about 75 s on 2 cores
    .venv/bin/python bench/proxy.py --quick      # shorter measurements, for a smoke run (about 20 s)
    .venv/bin/python bench/proxy.py --json out.json

The upstream double, the plain proxy, the gateway and the load generator each run in a process of their own, all
on loopback. Each server's CPU time comes from the OS for its whole process tree, read before and after each
round. Every scenario (whole or streamed chat answers, at each concurrency) is warmed up, then measured in rounds
in which the three targets take turns, so a change in the machine's background load falls on all three alike.
The exit status is 1 when any request failed or the gateway did not audit every request it served.
See docs/benchmark-proxy.md for what the figures mean.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as ``python bench/proxy.py``: make ``bench`` and this checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
import orjson
import yaml
from rich.console import Console

from bench.event_loop import LoopKind, available_loop
from bench.figures import DIRECT, GATEWAY, PLAIN, TARGETS, Comparison, Measurement, Round, compare, measurement
from bench.processes import GatewayProfile, LoadGenerator, Server, free_port
from bench.report import print_report
from clearance.config import parse_config

CHAT_PATH = "/v1/chat/completions"

# Runs the real ``clearance`` command line, which picks uvloop when it is installed; for an asyncio run, uvloop is
# made unimportable first. argv: the loop kind, then the command's arguments.
GATEWAY_LAUNCHER = """
import sys
if sys.argv.pop(1) == "asyncio":
    sys.modules["uvloop"] = None
from clearance.cli import main
sys.argv[0] = "clearance"
main()
"""


@dataclass(frozen=True)
class Plan:
    rounds: int
    """Each scenario's measurement is split into rounds, the three targets taking turns: the machine's
    background load then falls on all three alike."""
    requests: int
    """The most requests in one round."""
    seconds: float
    """The longest round."""
    warmup_requests: int
    warmup_seconds: float
    concurrencies: tuple[int, ...]
    events: int
    settle_s: float = 0.1
    """Pause before reading CPU times, so a server finishes work queued by the last request (audit writes)."""


def gateway_config(port: int, upstream_port: int, audit_path: Path, log_level: str) -> dict[str, Any]:
    config = {
        "server": {"host": "127.0.0.1", "port": port},
        "upstreams": [
            {
                "name": "double",
                "kind": "openai",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "models": ["bench-model"],
            }
        ],
        "audit": {"url": f"sqlite:///{audit_path}"},
        "logging": {"level": log_level},
    }
    parse_config(config, source="benchmark configuration")  # fail here, not in the subprocess
    return config


def audit_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        (count,) = connection.execute("SELECT count(*) FROM audit_records").fetchone()
    return int(count)


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "os": platform.platform(),
    }


class Bench:
    """Runs the scenarios against the three targets and collects the measurements."""

    def __init__(self, plan: Plan, upstream: Server, plain: Server, gateway: Server, loadgen: LoadGenerator) -> None:
        self.plan = plan
        self.upstream = upstream
        self.proxies = {DIRECT: None, PLAIN: plain, GATEWAY: gateway}
        self.loadgen = loadgen
        self.sent: dict[str, int] = {DIRECT: 0, PLAIN: 0, GATEWAY: 0}

    def _url(self, target: str) -> str:
        return (self.proxies[target] or self.upstream).url + CHAT_PATH

    def command_extras(self, target: str, stream: bool, concurrency: int) -> dict[str, Any]:
        """More fields for the load generator's command (a body, checks, timing); none here."""
        return {}

    def observe(self, target: str, outcome: dict[str, Any]) -> None:
        """Called with the load generator's outcome of every measured round (not the warm-ups)."""

    def _drive(self, target: str, stream: bool, concurrency: int, requests: int, seconds: float) -> dict[str, Any]:
        outcome = self.loadgen.run(
            url=self._url(target),
            stream=stream,
            concurrency=concurrency,
            requests=requests,
            seconds=seconds,
            **self.command_extras(target, stream, concurrency),
        )
        self.sent[target] += outcome["completed"] + outcome["errors"]
        return outcome

    def _round(self, target: str, stream: bool, concurrency: int) -> Round:
        plan = self.plan
        proxy = self.proxies[target]
        proxy_before = proxy.cpu_seconds() if proxy else 0.0
        upstream_before = self.upstream.cpu_seconds()
        outcome = self._drive(target, stream, concurrency, plan.requests, plan.seconds)
        time.sleep(plan.settle_s)
        self.observe(target, outcome)
        return Round(
            latencies_ms=outcome["latencies_ms"],
            errors=outcome["errors"],
            elapsed_s=outcome["elapsed_s"],
            proxy_cpu_s=proxy.cpu_seconds() - proxy_before if proxy else None,
            upstream_cpu_s=self.upstream.cpu_seconds() - upstream_before,
            error_sample=outcome["error_sample"],
        )

    def scenario(self, stream: bool, concurrency: int) -> list[Measurement]:
        """Warm every target up, then run the rounds, the targets taking turns (in a rotating order)."""
        plan = self.plan
        for target in TARGETS:
            self._drive(target, stream, concurrency, max(plan.warmup_requests, 4 * concurrency), plan.warmup_seconds)
        time.sleep(plan.settle_s)
        rounds: dict[str, list[Round]] = {target: [] for target in TARGETS}
        for i in range(plan.rounds):
            for target in TARGETS[i % len(TARGETS) :] + TARGETS[: i % len(TARGETS)]:
                rounds[target].append(self._round(target, stream, concurrency))
        return [measurement(target, stream, concurrency, rounds[target]) for target in TARGETS]

    def run(
        self, console: Console, streams: tuple[bool, ...] = (False, True), label: str | None = None
    ) -> list[Measurement]:
        """Every scenario: whole then streamed answers (``streams``), at each concurrency; ``label`` names them in
        the log (default: whole or stream)."""
        results = []
        for stream in streams:
            for concurrency in self.plan.concurrencies:
                for m in self.scenario(stream, concurrency):
                    cpu = "-" if m.proxy_cpu_ms is None else f"{m.proxy_cpu_ms:.3f}"
                    console.log(
                        f"{label or ('stream' if stream else 'whole'):6} c={concurrency:<3} {m.target:12} "
                        f"{m.requests_per_s:7.0f} req/s  p50 {m.p50_ms:6.2f} ms  proxy CPU {cpu} ms/req"
                        + (f"  [red]{m.errors} errors: {m.error_sample}[/]" if m.errors else "")
                    )
                    results.append(m)
        return results


def add_process_options(parser: argparse.ArgumentParser) -> None:
    """The options every gateway benchmark takes: the event loop, the gateway's log level, JSON out, py-spy."""
    parser.add_argument(
        "--loop",
        choices=["auto", "uvloop", "asyncio"],
        default="auto",
        help="event loop for every process (default auto: uvloop when installed)",
    )
    parser.add_argument(
        "--gateway-log-level",
        choices=["debug", "info", "warning", "error"],
        default="warning",
        help="the gateway's logging.level (default warning: no per-request access line)",
    )
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="FILE",
        help="sample the gateway with py-spy (must be on PATH) for the whole run and write its collapsed stacks "
        "to FILE (the sampling costs the gateway CPU: read the figures of such a run as a profile, not a result)",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure the Clearance gateway's overhead against a plain aiohttp proxy and going direct.",
    )
    parser.add_argument("--quick", action="store_true", help="short measurements (smoke run, noisier figures)")
    parser.add_argument("--rounds", type=int, help="rounds per target and scenario (default 4; quick 2)")
    parser.add_argument("--requests", type=int, help="most requests in one round (default 1500; quick 400)")
    parser.add_argument("--seconds", type=float, help="longest round in seconds (default 1.0; quick 0.5)")
    parser.add_argument("--concurrency", default="1,16,64", help="comma-separated concurrencies (default 1,16,64)")
    parser.add_argument("--events", type=int, default=40, help="content events per streamed answer (default 40)")
    add_process_options(parser)
    return parser.parse_args(argv)


def servers(workdir: Path, plan: Plan, loop: LoopKind, log_level: str) -> tuple[Server, Server, Server]:
    """The upstream double, the plain proxy and the gateway (not started), each on a free loopback port."""
    python = sys.executable
    up_port, plain_port, gw_port = free_port(), free_port(), free_port()
    upstream_argv = ["-m", "bench.upstream_double", "--port", str(up_port), "--events", str(plan.events)]
    upstream = Server("upstream double", [python, *upstream_argv, "--loop", loop], up_port, workdir / "upstream.log")
    plain_argv = ["-m", "bench.plain_proxy", "--port", str(plain_port), "--upstream", upstream.url]
    plain = Server("plain proxy", [python, *plain_argv, "--loop", loop], plain_port, workdir / "plain.log")
    config_path = workdir / "clearance.yaml"
    config_path.write_text(yaml.safe_dump(gateway_config(gw_port, up_port, workdir / "audit.db", log_level)))
    gateway_argv = ["-c", GATEWAY_LAUNCHER, loop, "serve", "--config", str(config_path)]
    gateway = Server("gateway", [python, *gateway_argv], gw_port, workdir / "gateway.log")
    return upstream, plain, gateway


def write_json(
    path: Path,
    settings: dict[str, Any],
    plan: Plan,
    measurements: list[Measurement],
    comparisons: list[Comparison],
) -> None:
    document = {
        "settings": settings,
        "plan": asdict(plan),
        "measurements": [asdict(m) | {"requests_per_s": m.requests_per_s} for m in measurements],
        "comparisons": [
            asdict(c) | {"cpu_bar_met": c.cpu_bar_met, "latency_bar_met": c.latency_bar_met} for c in comparisons
        ],
    }
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every request succeeded and the gateway audited every one, else 1."""
    args = parse_args(argv)
    loop: LoopKind = available_loop() if args.loop == "auto" else args.loop
    plan = Plan(
        rounds=args.rounds or (2 if args.quick else 4),
        requests=args.requests or (400 if args.quick else 1500),
        seconds=args.seconds or (0.5 if args.quick else 1.0),
        warmup_requests=100 if args.quick else 150,
        warmup_seconds=0.3 if args.quick else 0.5,
        concurrencies=tuple(int(c) for c in args.concurrency.split(",")),
        events=args.events,
    )
    console = Console(width=None if sys.stdout.isatty() else 160)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        upstream, plain, gateway = started_servers = servers(Path(tmp), plan, loop, args.gateway_log_level)
        try:
            for server in started_servers:
                server.start()
            loops = {server.name: server.event_loop() for server in started_servers}
            if any(kind not in (loop, "unknown") for kind in loops.values()):
                raise RuntimeError(f"the servers do not all run on {loop}: {loops}")
            with LoadGenerator(loop) as loadgen, GatewayProfile(args.py_spy, gateway.pid):
                bench = Bench(plan, upstream, plain, gateway, loadgen)
                measurements = bench.run(console)
        finally:
            exit_codes = {server.name: server.stop() for server in reversed(started_servers)}
        recorded = audit_rows(Path(tmp) / "audit.db")
        if exit_codes["gateway"] not in (0, None):
            console.print(f"[red]the gateway exited with {exit_codes['gateway']}[/]:\n{gateway.log_tail()}")
    comparisons = compare(measurements)
    settings = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "event loop": f"{loop} in every process (seen in each server's memory map: {loops})",
        "gateway": "clearance serve --config (generated), audit to SQLite (WAL) in a temp dir",
        "gateway logging.level": args.gateway_log_level,
        "audit records written / requests sent to the gateway": f"{recorded} / {bench.sent[GATEWAY]}",
        "chat prompt": "2048-byte JSON body (system + user message)",
        "streamed answer": f"{plan.events} content events + finish + usage + [DONE] (SSE)",
        "per target and scenario": f"{plan.rounds} rounds of at most {plan.requests} requests or {plan.seconds}s, "
        "after a warm-up",
        "load average before / after": f"{load_before:.2f} / {os.getloadavg()[0]:.2f}",
        "duration": f"{time.monotonic() - started:.0f}s",
        **{f"machine {k}": v for k, v in machine().items()},
    }
    print_report(console, settings, measurements, comparisons)
    if args.json:
        write_json(args.json, settings, plan, measurements, comparisons)
    errors = sum(m.errors for m in measurements)
    return 1 if errors or recorded != bench.sent[GATEWAY] else 0


if __name__ == "__main__":
    sys.exit(main())
