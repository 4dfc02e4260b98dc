"""What one gateway core costs, in one run: the five figures of issue 16's "Per-core cost", for the gateway
(``clearance serve``, one process, default policy: restricted data masked both ways) and for a plain aiohttp
pass-through side by side, each printed against its target.

    .venv/bin/python -m bench.percore              # the issue's traffic, about 90 s on 2 cores
    .venv/bin/python -m bench.percore --sensitive  # also a second table on sensitive payloads (about 3 min)
    .venv/bin/python -m bench.percore --quick      # a smoke run, 20-25 s, noisier figures
    .venv/bin/python -m bench.percore --json out.json

The primary table is measured on the traffic the issue's baseline figures came from (``bench.proxy``'s): a 2 KB
chat prompt of ordinary prose (``bench.loadgen.chat_body``) and the upstream double's plain reply, through the
default policy, which then finds nothing to mask. With ``--sensitive`` the same five figures are measured again, on
a second set of servers, with ``bench.masking``'s payloads (a card, an SSN, an email and a token in every prompt
and answer, masked both ways, every answer and upstream request checked): a second table, also against the targets,
which cost several times more in detection and masking.

The five figures (``TARGETS``):

1. CPU per whole chat request at concurrency 1, against an upstream double that answers at once;
2. CPU per 50-event streamed answer at concurrency 1, same double;
3. whole requests per second one core serves at concurrency 16: 1000 / (CPU ms per request at concurrency 16).
   CPU, not the wall clock: the load generator and the doubles share the machine's cores with the proxy, so the
   req/s the load generator sees is also printed but says more about the machine than about one proxy core;
4. added time to first token at p99 (the target's p99 minus going direct's), 16 paced streams in flight (first
   event 100 ms after the request, then one every 10 ms);
5. peak resident memory of the proxy process while 64 paced streams are open.

It is ``bench.masking``'s machinery (the servers, the rounds, every answer checked, one audit record per request)
with this issue's scenarios; see docs/benchmark-proxy.md. The exit status is 1 when a check or a request failed or
the gateway did not audit every request; the targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped,unused-ignore]
from rich.console import Console
from rich.table import Table

from bench import harness
from bench.figures import (
    DIRECT,
    GATEWAY,
    PLAIN,
    AddedFirstToken,
    FirstToken,
    Measurement,
    added_first_token,
    first_token,
)
from bench.masking import MaskingBench, MaskingPlan, correctness, servers, upstream_reports
from bench.processes import GatewayProfile, LoadGenerator
from bench.report import first_token_table, measurements_table, settings_table, verdict

STREAM_EVENTS = 50
PROXIES = (PLAIN, GATEWAY)


@dataclass(frozen=True)
class Target:
    """One of the issue's targets: a figure, its limit, and which way it must lie (``at_most`` or at least)."""

    name: str
    limit: float
    unit: str
    at_most: bool = True

    def met(self, figure: float) -> bool | None:
        """None when the run had no figure for it (NaN: nothing measured)."""
        if math.isnan(figure):
            return None
        return figure <= self.limit if self.at_most else figure >= self.limit


CPU_WHOLE = Target("CPU per whole chat request, c=1", 0.6, "ms")
CPU_STREAM = Target(f"CPU per {STREAM_EVENTS}-event stream, c=1", 1.2, "ms")
PER_CORE = Target("whole requests/s per core, c=16", 3000.0, "req/s", at_most=False)
TTFT_P99 = Target("added time to first token p99, c=16 paced", 5.0, "ms")
RSS = Target("RSS with 64 open streams", 120.0, "MB")
TARGETS = (CPU_WHOLE, CPU_STREAM, PER_CORE, TTFT_P99, RSS)


@dataclass(frozen=True)
class Reading:
    """One target's figure for the plain pass-through and for the gateway, in the same run."""

    target: Target
    plain: float
    gateway: float

    @property
    def met(self) -> bool | None:
        """None when unknown: no figure, or an added time below zero (no proxy is faster than going direct: the
        direct streams' own p99 was the noisier one, and the run cannot judge the target)."""
        if self.target is TTFT_P99 and self.gateway < 0:
            return None
        return self.target.met(self.gateway)

    @property
    def times_plain(self) -> float:
        """How many times the plain pass-through's cost the gateway's is (CPU and memory figures; NaN for the
        others): on a busy machine both proxies' CPU times move together, so this moves less than either."""
        if self.target in (CPU_WHOLE, CPU_STREAM, RSS):
            return self.gateway / self.plain if self.plain > 0 else math.nan
        if self.target is PER_CORE:
            return self.plain / self.gateway if self.gateway > 0 else math.nan
        return math.nan


class PeakRss:
    """The largest resident set size of one process while the block runs, sampled every ``interval_s``."""

    def __init__(self, pid: int, interval_s: float = 0.02) -> None:
        self._process = psutil.Process(pid)
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak_bytes = 0

    def _sample(self) -> None:
        while True:
            try:
                self.peak_bytes = max(self.peak_bytes, int(self._process.memory_info().rss))
            except psutil.NoSuchProcess:
                return
            if self._stop.wait(self._interval_s):
                return

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()


class OpenStreamsBench(MaskingBench):
    """Paced streams at a high concurrency, the proxies' peak RSS sampled during every round (going direct has no
    proxy to sample)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.peak_rss_mb: dict[str, float] = {}

    def _drive(self, target: str, stream: bool, concurrency: int, requests: int, seconds: float) -> dict[str, Any]:
        proxy = self.proxies[target]
        if proxy is None:
            return super()._drive(target, stream, concurrency, requests, seconds)
        with PeakRss(proxy.pid) as rss:
            outcome = super()._drive(target, stream, concurrency, requests, seconds)
        self.peak_rss_mb[target] = max(self.peak_rss_mb.get(target, 0.0), rss.peak_bytes / 1e6)
        return outcome


def _find(measurements: Sequence[Measurement], target: str, stream: bool, concurrency: int) -> Measurement | None:
    return next((m for m in measurements if (m.target, m.stream, m.concurrency) == (target, stream, concurrency)), None)


def _cpu(measurements: Sequence[Measurement], target: str, stream: bool, concurrency: int) -> float:
    m = _find(measurements, target, stream, concurrency)
    return math.nan if m is None or m.proxy_cpu_ms is None else m.proxy_cpu_ms


def _per_core(cpu_ms: float) -> float:
    return 1000.0 / cpu_ms if cpu_ms > 0 else math.nan


def readings(
    measured: Sequence[Measurement], added_ttft_p99_ms: dict[str, float], peak_rss_mb: dict[str, float]
) -> list[Reading]:
    """The five figures, for each proxy: from the instant rounds (whole and stream at concurrency 1, whole at 16),
    the paced rounds' added p99 time to first token, and the open-streams rounds' peak RSS."""

    def pair(target: Target, figure: dict[str, float]) -> Reading:
        return Reading(target, figure.get(PLAIN, math.nan), figure.get(GATEWAY, math.nan))

    return [
        pair(CPU_WHOLE, {p: _cpu(measured, p, False, 1) for p in PROXIES}),
        pair(CPU_STREAM, {p: _cpu(measured, p, True, 1) for p in PROXIES}),
        pair(PER_CORE, {p: _per_core(_cpu(measured, p, False, 16)) for p in PROXIES}),
        pair(TTFT_P99, added_ttft_p99_ms),
        pair(RSS, peak_rss_mb),
    ]


def readings_table(rows: Sequence[Reading], title: str) -> Table:
    table = Table(title=title)
    table.add_column("figure")
    for column in ("plain pass-through", "gateway", "gateway cost / plain", "target"):
        table.add_column(column, justify="right")
    table.add_column("gateway")
    for r in rows:
        digits = 0 if r.target.unit in ("req/s", "MB") else 2
        sign = "<=" if r.target.at_most else ">="
        table.add_row(
            f"{r.target.name} ({r.target.unit})",
            f"{r.plain:.{digits}f}",
            f"{r.gateway:.{digits}f}",
            "-" if math.isnan(r.times_plain) else f"{r.times_plain:.1f}x",
            f"{sign} {r.target.limit:g}",
            verdict(r.met).replace("missed", "not met") or "unknown (noisy baseline)",
        )
    return table


@dataclass(frozen=True)
class PerCorePlan:
    masking: MaskingPlan
    """The instant rounds (whole c=1 and 16, stream c=1) and the paced rounds (time to first token)."""
    open_streams: int
    open_seconds: float

    def open_plan(self) -> MaskingPlan:
        """The open-streams rounds: ``open_streams`` paced streams in flight, one round per target."""
        masking = self.masking
        held = harness.Plan(
            rounds=1,
            requests=10_000,
            seconds=self.open_seconds,
            warmup_requests=self.open_streams,
            warmup_seconds=0.0,
            concurrencies=(self.open_streams,),
            events=masking.instant.events,
        )
        return replace(masking, paced=held)


@dataclass(frozen=True)
class Traffic:
    """What the requests and answers carry: the issue's own traffic (the primary table) or the masking payloads."""

    sensitive: bool
    title: str
    prompt: str
    answer: str


ORDINARY = Traffic(
    sensitive=False,
    title="Issue 16, per-core cost, the issue's traffic (bench.proxy's 2 KB prompt of ordinary text, default policy)",
    prompt="2048-byte JSON body (bench.loadgen.chat_body: a system prompt and a user question of ordinary prose)",
    answer="the double's plain reply, whole or streamed in {events} content events",
)
SENSITIVE = Traffic(
    sensitive=True,
    title="Second table, sensitive payloads (bench.masking's: values in every prompt and answer, masked both ways)",
    prompt="2048-byte JSON body (a card, an SSN, an email, a GitHub token among prose)",
    answer="a card, an SSN, an email, a GitHub token; streamed in {events} token-like events",
)


@dataclass
class TrafficRun:
    """One traffic's run: every measurement, the first-token rows, the five readings and the checks."""

    traffic: Traffic
    settings: dict[str, Any]
    measurements: list[Measurement]
    first_token: list[FirstToken]
    added: list[AddedFirstToken]
    readings: list[Reading]
    checks: dict[str, str]
    ok: bool

    @property
    def errors(self) -> int:
        return sum(m.errors for m in self.measurements)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure issue 16's per-core figures for the Clearance gateway and a plain aiohttp pass-through "
        "in one run, each against its target.",
    )
    parser.add_argument("--quick", action="store_true", help="short measurements (smoke run, noisier figures)")
    parser.add_argument("--rounds", type=int, help="rounds per target and scenario (default 3; quick 1)")
    parser.add_argument("--requests", type=int, help="most requests in one instant round (default 1500; quick 400)")
    parser.add_argument("--seconds", type=float, help="longest instant round in seconds (default 1.0; quick 0.4)")
    parser.add_argument("--paced-seconds", type=float, help="longest paced round (default 3; quick 1)")
    parser.add_argument("--open-streams", type=int, default=64, help="streams open for the RSS figure (default 64)")
    parser.add_argument("--open-seconds", type=float, help="longest open-streams round (default 2; quick 0.8)")
    parser.add_argument("--events", type=int, default=STREAM_EVENTS, help=f"events per stream ({STREAM_EVENTS})")
    parser.add_argument(
        "--sensitive",
        action="store_true",
        help="also measure the five figures on bench.masking's sensitive payloads, in a second table "
        "(a second set of servers: about doubles the run)",
    )
    harness.add_process_options(parser)
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> PerCorePlan:
    quick = args.quick
    rounds = args.rounds or (1 if quick else 3)
    instant = harness.Plan(
        rounds=rounds,
        requests=args.requests or (400 if quick else 1500),
        seconds=args.seconds or (0.4 if quick else 1.0),
        warmup_requests=100 if quick else 150,
        warmup_seconds=0.15 if quick else 0.5,
        concurrencies=(1, 16),
        events=args.events,
    )
    paced = harness.Plan(
        rounds=1 if quick else rounds,
        requests=10_000,
        seconds=args.paced_seconds or (1.0 if quick else 3.0),
        warmup_requests=16,
        warmup_seconds=0.3,
        concurrencies=(16,),
        events=args.events,
    )
    masking = MaskingPlan(instant=instant, paced=paced, first_token_ms=100.0, event_ms=10.0, sensitive=False)
    return PerCorePlan(masking, args.open_streams, args.open_seconds or (0.8 if quick else 2.0))


def _instant_rounds(bench: MaskingBench, out: Console) -> list[Measurement]:
    """Whole answers at concurrency 1 and 16, streamed at 1: the scenarios the figures read."""
    measured = []
    for stream, concurrency in ((False, 1), (False, 16), (True, 1)):
        measured += bench.scenario(stream, concurrency)
        for m in measured[-3:]:
            cpu = "-" if m.proxy_cpu_ms is None else f"{m.proxy_cpu_ms:.3f}"
            out.log(f"{'stream' if stream else 'whole':6} c={concurrency:<3} {m.target:12} CPU {cpu} ms/req")
    return measured


def measure(traffic: Traffic, plan: PerCorePlan, args: argparse.Namespace, out: Console) -> TrafficRun:
    """The five figures on one traffic, with a set of servers of its own (started here, stopped before return)."""
    loop = harness.event_loop(args)
    masking = replace(plan.masking, sensitive=traffic.sensitive)
    open_plan = replace(plan.open_plan(), sensitive=traffic.sensitive)
    out.rule(traffic.title)
    profile = args.py_spy
    if profile is not None and traffic.sensitive:  # the second run's stacks beside the first's, not over them
        profile = profile.with_name(f"{profile.stem}.sensitive{profile.suffix}")
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        started = servers(workdir, masking, loop, args.gateway_log_level)
        with harness.Run(started.all(), loop, out) as run:
            with LoadGenerator(loop) as loadgen, GatewayProfile(profile, started.gateway.pid):
                instant = MaskingBench(masking, False, started, loadgen)
                measured = _instant_rounds(instant, out)
                timed = MaskingBench(masking, True, started, loadgen)
                paced = timed.run(out, (True,), "paced")
                held = OpenStreamsBench(open_plan, True, started, loadgen)
                opened = held.run(out, (True,), "open")
            upstream = upstream_reports(workdir, started) if traffic.sensitive else None
        recorded = harness.audit_rows(workdir / "audit.db")
    benches = [instant, timed, held]
    checks, ok = correctness(benches, upstream, recorded)
    rows = [first_token(t, timed.ttft_ms[t], timed.first_event_ms[t]) for t in (DIRECT, PLAIN, GATEWAY)]
    added = added_first_token(rows)
    found = readings(measured, {a.target: a.ttft_p99_ms for a in added}, held.peak_rss_mb)
    settings = run.settings(
        args,
        "clearance serve --config (generated; no policy: the default one), audit to SQLite in a temp dir",
        **{
            "traffic": traffic.title,
            "chat prompt": traffic.prompt,
            "answer": traffic.answer.format(events=args.events),
            "instant rounds": f"{masking.instant.rounds} of at most {masking.instant.requests} requests or "
            f"{masking.instant.seconds}s per target and scenario, after a warm-up",
            "paced rounds": f"first event 100 ms after the request, then one every 10 ms; 16 streams in flight, "
            f"{masking.paced.rounds} rounds of {masking.paced.seconds}s per target",
            "open streams": f"{plan.open_streams} paced streams in flight for {plan.open_seconds}s per proxy, "
            "RSS sampled every 20 ms",
        },
    )
    return TrafficRun(
        traffic, settings, [*measured, *paced, *opened], rows, added, found, checks, ok and run.gateway_exited_cleanly
    )


def report(result: TrafficRun, out: Console) -> None:
    out.print(settings_table(result.settings))
    out.print(measurements_table(result.measurements))
    out.print(first_token_table(result.first_token, result.added))
    out.print(settings_table(result.checks, title="Correctness"))


def figures_json(result: TrafficRun) -> dict[str, Any]:
    return {
        "settings": result.settings,
        "measurements": harness.measurements_json(result.measurements),
        "first_token": [asdict(r) for r in result.first_token],
        "readings": [
            {
                "figure": r.target.name,
                "unit": r.target.unit,
                "plain": r.plain,
                "gateway": r.gateway,
                "gateway_cost_vs_plain": r.times_plain,
                "met": r.met,
            }
            for r in result.readings
        ],
        "checks": result.checks,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every check passed and every request succeeded, else 1."""
    args = parse_args(argv)
    plan = make_plan(args)
    out = harness.console()
    results = [
        measure(traffic, plan, args, out) for traffic in (ORDINARY, SENSITIVE) if args.sensitive or traffic is ORDINARY
    ]
    for result in results:
        report(result, out)
    for result in results:  # the verdicts last, the issue's own traffic first
        out.print(readings_table(result.readings, result.traffic.title))
    if args.json:
        primary, *second = results
        document = figures_json(primary) | {"plan": asdict(plan)}
        if second:
            document["sensitive"] = figures_json(second[0])
        args.json.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    return 0 if all(r.ok and not r.errors for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
