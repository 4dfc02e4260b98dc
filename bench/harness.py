"""What every gateway benchmark shares: its options, the generated gateway, the servers of a run, the rounds in
which the targets take turns under load, and the run's settings and JSON.

A benchmark (``bench.proxy``, ``bench.masking``) names its servers, its plan and what it adds to each round; this
module starts them (``bench.processes``: a process per server, CPU per process tree from the OS), drives the load
(``bench.loadgen``), pools the rounds into figures (``bench.figures``) and leaves the tables to ``bench.report``.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import orjson
import yaml
from rich.console import Console

from bench.event_loop import LoopKind, available_loop
from bench.figures import DIRECT, GATEWAY, PLAIN, TARGETS, Measurement, Round, measurement
from bench.processes import LoadGenerator, Server
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


def add_round_options(parser: argparse.ArgumentParser, rounds: int, concurrency: str, events: int) -> None:
    """The options of the rounds against the instant upstream, with this benchmark's defaults."""
    parser.add_argument("--quick", action="store_true", help="short measurements (smoke run, noisier figures)")
    parser.add_argument("--rounds", type=int, help=f"rounds per target and scenario (default {rounds}; quick 2)")
    parser.add_argument("--requests", type=int, help="most requests in one round (default 1500; quick 400)")
    parser.add_argument("--seconds", type=float, help="longest round in seconds (default 1.0; quick 0.5)")
    parser.add_argument("--concurrency", default=concurrency, help=f"concurrencies, comma-separated ({concurrency})")
    parser.add_argument("--events", type=int, default=events, help=f"content events per stream (default {events})")


def round_plan(args: argparse.Namespace, rounds: int) -> Plan:
    """The plan of the options ``add_round_options`` added (``rounds``: the default, when not quick)."""
    return Plan(
        rounds=args.rounds or (2 if args.quick else rounds),
        requests=args.requests or (400 if args.quick else 1500),
        seconds=args.seconds or (0.5 if args.quick else 1.0),
        warmup_requests=100 if args.quick else 150,
        warmup_seconds=0.3 if args.quick else 0.5,
        concurrencies=tuple(int(c) for c in args.concurrency.split(",")),
        events=args.events,
    )


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


def event_loop(args: argparse.Namespace) -> LoopKind:
    loop: LoopKind = available_loop() if args.loop == "auto" else args.loop
    return loop


def gateway_config(
    port: int, upstreams: dict[str, tuple[int, str]], audit_path: Path, log_level: str
) -> dict[str, Any]:
    """The gateway's configuration: an OpenAI-shaped upstream per entry (name: port and the one model it serves),
    auditing to SQLite at ``audit_path``. No policy: the built-in default applies. No drain grace: nothing balances
    load onto it, so a benchmark's stop need not wait for one to notice."""
    config = {
        "server": {"host": "127.0.0.1", "port": port, "drain": {"grace": 0, "deadline": 5}},
        "upstreams": [
            {"name": name, "kind": "openai", "base_url": f"http://127.0.0.1:{up}/v1", "models": [model]}
            for name, (up, model) in upstreams.items()
        ],
        "audit": {"url": f"sqlite:///{audit_path}"},
        "logging": {"level": log_level},
    }
    parse_config(config, source="benchmark configuration")  # fail here, not in the subprocess
    return config


def gateway_server(workdir: Path, port: int, config: dict[str, Any], loop: LoopKind) -> Server:
    """``clearance serve`` on ``config``, written to the run's directory."""
    path = workdir / "clearance.yaml"
    path.write_text(yaml.safe_dump(config))
    argv = [sys.executable, "-c", GATEWAY_LAUNCHER, loop, "serve", "--config", str(path)]
    return Server("gateway", argv, port, workdir / "gateway.log")


def bench_server(workdir: Path, name: str, port: int, module: str, loop: LoopKind, *options: str) -> Server:
    """One of the benchmark's own servers (``bench.upstream_double``, ``bench.plain_proxy``)."""
    argv = [sys.executable, "-m", module, "--port", str(port), *options, "--loop", loop]
    return Server(name, argv, port, workdir / f"{name}.log")


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


class Run:
    """One benchmark run's servers: started together (each checked to run on ``loop``), stopped in reverse order
    when the block ends (the gateway then writes its queued audit records). Also keeps the run's clock and load."""

    def __init__(self, servers: Sequence[Server], loop: LoopKind, console: Console) -> None:
        self.servers = list(servers)
        self.loop = loop
        self.console = console
        self.loops: dict[str, str] = {}
        self.exit_codes: dict[str, int | None] = {}
        self._started = time.monotonic()
        self._load_before = os.getloadavg()[0]

    def __enter__(self) -> Run:
        try:
            for server in self.servers:
                server.launch()
            for server in self.servers:
                server.wait_listening()
            self.loops = {server.name: server.event_loop() for server in self.servers}
            if any(kind not in (self.loop, "unknown") for kind in self.loops.values()):
                raise RuntimeError(f"the servers do not all run on {self.loop}: {self.loops}")
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.exit_codes = {server.name: server.stop() for server in reversed(self.servers)}
        gateway = next((s for s in self.servers if s.name == "gateway"), None)
        if gateway is not None and not self.gateway_exited_cleanly:
            self.console.print(f"[red]the gateway exited with {self.exit_codes['gateway']}[/]:\n{gateway.log_tail()}")

    @property
    def gateway_exited_cleanly(self) -> bool:
        return self.exit_codes.get("gateway") in (0, None)

    def settings(self, args: argparse.Namespace, gateway: str, **specific: Any) -> dict[str, Any]:
        """The run's settings table: the command, the loop, the gateway, what the benchmark adds, the machine."""
        return {
            "command": " ".join([Path(sys.executable).name, *sys.argv]),
            "event loop": f"{self.loop} in every process (seen in each server's memory map: {self.loops})",
            "gateway": gateway,
            "gateway logging.level": args.gateway_log_level,
            **specific,
            "load average before / after": f"{self._load_before:.2f} / {os.getloadavg()[0]:.2f}",
            "duration": f"{time.monotonic() - self._started:.0f}s",
            **{f"machine {k}": v for k, v in machine().items()},
        }


def console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 160)


def measurements_json(measurements: Sequence[Measurement]) -> list[dict[str, Any]]:
    return [asdict(m) | {"requests_per_s": m.requests_per_s} for m in measurements]


def write_json(path: Path, settings: dict[str, Any], plan: Any, **figures: Any) -> None:
    """Every figure of a run, with its settings and plan (a dataclass), as indented JSON."""
    document = {"settings": settings, "plan": asdict(plan), **figures}
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))


class Bench:
    """Runs the scenarios against the three targets (going direct, the plain proxy, the gateway) and collects the
    measurements. Subclasses add fields to the load generator's command and look at each round's outcome."""

    def __init__(self, plan: Plan, upstream: Server, plain: Server, gateway: Server, loadgen: LoadGenerator) -> None:
        self.plan = plan
        self.upstream = upstream
        self.proxies: dict[str, Server | None] = {DIRECT: None, PLAIN: plain, GATEWAY: gateway}
        self.targets: tuple[str, ...] = TARGETS
        """The targets each scenario measures, in their first round's order (a subclass may name others: each is
        a key of ``proxies``, with None for going direct)."""
        self.loadgen = loadgen
        self.sent: dict[str, int] = dict.fromkeys(TARGETS, 0)

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
        targets = self.targets
        for target in targets:
            self._drive(target, stream, concurrency, max(plan.warmup_requests, 4 * concurrency), plan.warmup_seconds)
        time.sleep(plan.settle_s)
        rounds: dict[str, list[Round]] = {target: [] for target in targets}
        for i in range(plan.rounds):
            for target in targets[i % len(targets) :] + targets[: i % len(targets)]:
                rounds[target].append(self._round(target, stream, concurrency))
        return [measurement(target, stream, concurrency, rounds[target]) for target in targets]

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
