"""What masking costs, in one run: the gateway (``clearance serve``, default policy: restricted data masked both
ways) against going direct to the upstream double and a plain aiohttp pass-through, with sensitive data in the
prompt and in the answer.

    .venv/bin/python -m bench.masking              # the full run, about 90 s on 2 cores
    .venv/bin/python -m bench.masking --quick      # shorter measurements, for a smoke run (about 35 s)
    .venv/bin/python -m bench.masking --json out.json

Two phases, each with the three targets taking turns round by round (``bench.harness``: a process per
server, CPU per process tree from the OS, bounded load loops):

1. CPU per request and per stream, against an upstream double that answers at once: a 2 KB chat prompt carrying a
   card, an SSN, an email and a GitHub token; an answer carrying another card, SSN, email and token, whole or as a
   60-event stream cut like a model's tokens (values split across events).
2. Time to first token, against a paced double (first event 100 ms after the request, then one every 10 ms): from
   sending the request to the first content delta that carries text, at the client.

Every answer is checked by the load generator (through the gateway: masked forms present, no raw value, even split
across events; direct and via the plain proxy: raw values present, so the check can fail), and every request is
checked by the double (from the gateway: masked; from the others: raw). The exit status is 1 when a check failed,
a request failed, or the gateway did not audit every request it served. See docs/benchmark-masking.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from bench import harness
from bench.checks import Check, ReceivedReport, Tally, verdicts
from bench.event_loop import LoopKind
from bench.figures import GATEWAY, TARGETS, MaskingFigures, Measurement, added_first_token, bars, first_token
from bench.loadgen import chat_body
from bench.processes import GatewayProfile, LoadGenerator, Server, free_port
from bench.report import print_masking_report
from bench.sensitive import GATEWAY_ANSWER, STREAM_EVENTS, UNMASKED_ANSWER, masking_chat_body
from bench.upstream_double import CHECK_EVERY_S, REPLY

PACED_MODEL = "bench-paced"


@dataclass(frozen=True)
class MaskingPlan:
    instant: harness.Plan
    """Phase 1: whole and streamed answers from the instant double, at each concurrency."""
    paced: harness.Plan
    """Phase 2: streams from the paced double, at one concurrency."""
    first_token_ms: float
    event_ms: float
    sensitive: bool = True
    """``bench.sensitive``'s payloads, every answer and upstream request checked for masking; False: the proxy
    benchmark's ordinary traffic (``bench.loadgen.chat_body``, the double's plain reply), answers checked whole."""

    @property
    def paced_stream_s(self) -> float:
        """How long one paced stream lasts: the first event, then one every ``event_ms``, then the closing ones."""
        return (self.first_token_ms + (self.paced.events + 2) * self.event_ms) / 1000.0


@dataclass
class Servers:
    upstream: Server
    paced_upstream: Server
    plain: Server
    paced_plain: Server
    gateway: Server

    def all(self) -> list[Server]:
        return [self.upstream, self.paced_upstream, self.plain, self.paced_plain, self.gateway]


class MaskingBench(harness.Bench):
    """The proxy benchmark's rounds, with the sensitive chat request, the answer checks and (paced) the timing."""

    def __init__(self, plan: MaskingPlan, paced: bool, servers: Servers, loadgen: LoadGenerator) -> None:
        upstream, plain = (servers.paced_upstream, servers.paced_plain) if paced else (servers.upstream, servers.plain)
        super().__init__(plan.paced if paced else plan.instant, upstream, plain, servers.gateway, loadgen)
        self.model = PACED_MODEL if paced else "bench-model"
        self.stagger_s = plan.paced_stream_s if paced else 0.0
        self.paced = paced
        self.sensitive = plan.sensitive
        self.ttft_ms: dict[str, list[float]] = {t: [] for t in TARGETS}
        self.first_event_ms: dict[str, list[float]] = {t: [] for t in TARGETS}
        self.answers: dict[str, Tally] = {t: Tally() for t in TARGETS}
        """Per target, every answer the load generator checked, warm-ups included."""

    def command_extras(self, target: str, stream: bool, concurrency: int) -> dict[str, Any]:
        extras: dict[str, Any]
        if self.sensitive:
            expected = GATEWAY_ANSWER if target == GATEWAY else UNMASKED_ANSWER
            extras = {
                "body": masking_chat_body(stream, model=self.model).decode(),
                "required": list(expected.required),
                "forbidden": list(expected.forbidden),
            }
        else:  # nothing to mask: every target's answer carries the double's reply as it was sent
            extras = {"body": chat_body(stream, model=self.model).decode(), "required": [REPLY.strip()]}
        if self.paced:
            extras |= {"ttft": True, "stagger_s": self.stagger_s / concurrency}
        return extras

    def _drive(self, target: str, stream: bool, concurrency: int, requests: int, seconds: float) -> dict[str, Any]:
        outcome = super()._drive(target, stream, concurrency, requests, seconds)
        self.answers[target].count(outcome["completed"] + outcome["errors"], outcome["errors"], outcome["error_sample"])
        return outcome

    def observe(self, target: str, outcome: dict[str, Any]) -> None:
        self.ttft_ms[target].extend(outcome["ttft_ms"])
        self.first_event_ms[target].extend(outcome["first_event_ms"])

    def run_phase(self, console: Console) -> list[Measurement]:
        return self.run(console, (True,), "paced") if self.paced else self.run(console)


def masking_gateway_config(
    port: int, upstream_port: int, paced_port: int, audit: Path, log_level: str
) -> dict[str, Any]:
    """The proxy benchmark's gateway config with a second upstream, the paced double, serving ``PACED_MODEL``.
    No policy is configured: the built-in default applies (restricted data masked in requests and answers)."""
    upstreams = {"double": (upstream_port, "bench-model"), "paced": (paced_port, PACED_MODEL)}
    return harness.gateway_config(port, upstreams, audit, log_level)


def servers(workdir: Path, plan: MaskingPlan, loop: LoopKind, log_level: str) -> Servers:
    """Two upstream doubles (instant and paced; with sensitive payloads, each checking what it receives), a plain
    proxy in front of each, and the gateway in front of both; none started, each on a free loopback port."""
    up_port, paced_port, plain_port, paced_plain_port, gw_port = (free_port() for _ in range(5))

    def double(name: str, port: int, *pacing: str) -> Server:
        options = ["--events", str(plan.instant.events)]
        if plan.sensitive:
            options += ["--sensitive", "--report", str(workdir / f"{name}.json")]
        return harness.bench_server(workdir, name, port, "bench.upstream_double", loop, *options, *pacing)

    def plain(name: str, port: int, upstream: Server) -> Server:
        return harness.bench_server(workdir, name, port, "bench.plain_proxy", loop, "--upstream", upstream.url)

    upstream = double("upstream double", up_port)
    pacing = ("--first-token-ms", str(plan.first_token_ms), "--event-ms", str(plan.event_ms))
    paced_upstream = double("paced upstream double", paced_port, *pacing)
    config = masking_gateway_config(gw_port, up_port, paced_port, workdir / "audit.db", log_level)
    return Servers(
        upstream=upstream,
        paced_upstream=paced_upstream,
        plain=plain("plain proxy", plain_port, upstream),
        paced_plain=plain("paced plain proxy", paced_plain_port, paced_upstream),
        gateway=harness.gateway_server(workdir, gw_port, config, loop),
    )


def upstream_reports(workdir: Path, started: Servers) -> ReceivedReport:
    """The doubles' checks of every request they received, summed."""
    time.sleep(2.5 * CHECK_EVERY_S)  # each double checks (and rewrites its file) every CHECK_EVERY_S
    total = ReceivedReport()
    for server in (started.upstream, started.paced_upstream):
        path = workdir / f"{server.name}.json"
        if path.exists():
            total.add(ReceivedReport.from_json(orjson.loads(path.read_bytes())))
    return total


def correctness(
    benches: list[MaskingBench], upstream: ReceivedReport | None, recorded: int
) -> tuple[dict[str, str], bool]:
    """Each check in words, and whether every one passed (the audit included: one record per request sent).
    ``upstream`` None: the ordinary traffic (nothing to mask, the doubles check nothing), whose checks are that every
    answer through each target was complete and carried the double's reply."""
    answers = {t: Tally() for t in TARGETS}
    sent = dict.fromkeys(TARGETS, 0)
    for bench in benches:
        for t in TARGETS:
            answers[t].add(bench.answers[t])
            sent[t] += bench.sent[t]
    if upstream is None:
        checks = [Check(f"answers {t}: complete, the double's reply in them", answers[t], sent[t]) for t in TARGETS]
    else:
        checks = verdicts(answers, sent, upstream)
    words = {c.name: c.describe() for c in checks}
    audited = recorded == sent[GATEWAY]
    words["audit records written / requests sent to the gateway"] = f"{recorded} / {sent[GATEWAY]}" + (
        "" if audited else "  FAILED"
    )
    return words, audited and all(c.passed for c in checks)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Measure what masking costs in the Clearance gateway, against a plain aiohttp proxy and going "
        "direct: CPU per request and per stream, and added time to first token against a paced upstream.",
    )
    harness.add_round_options(parser, rounds=3, concurrency="1,16", events=STREAM_EVENTS)
    parser.add_argument("--paced-concurrency", type=int, default=8, help="phase 2 streams in flight (default 8)")
    parser.add_argument("--paced-rounds", type=int, help="phase 2 rounds per target (default 3; quick 2)")
    parser.add_argument("--paced-seconds", type=float, help="phase 2: longest round in seconds (default 4; quick 2)")
    parser.add_argument("--paced-requests", type=int, default=10_000, help="phase 2: most requests in one round")
    parser.add_argument("--first-token-ms", type=float, default=100.0, help="paced double: first event (default 100)")
    parser.add_argument("--event-ms", type=float, default=10.0, help="paced double: between events (default 10)")
    harness.add_process_options(parser)
    return parser.parse_args(argv)


def make_plan(args: argparse.Namespace) -> MaskingPlan:
    instant = harness.round_plan(args, rounds=3)
    paced = harness.Plan(
        rounds=args.paced_rounds or (2 if args.quick else 3),
        requests=args.paced_requests,
        seconds=args.paced_seconds or (2.0 if args.quick else 4.0),
        warmup_requests=args.paced_concurrency,
        warmup_seconds=0.5,
        concurrencies=(args.paced_concurrency,),
        events=args.events,
    )
    return MaskingPlan(instant=instant, paced=paced, first_token_ms=args.first_token_ms, event_ms=args.event_ms)


def figures_of(
    timed: MaskingBench, measured: list[Measurement], paced: list[Measurement], checks: dict[str, str]
) -> MaskingFigures:
    rows = [first_token(t, timed.ttft_ms[t], timed.first_event_ms[t]) for t in TARGETS]
    added = added_first_token(rows)
    return MaskingFigures(measured, paced, rows, added, bars(measured, added), checks)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every check passed and every request succeeded, else 1."""
    args = parse_args(argv)
    loop = harness.event_loop(args)
    plan = make_plan(args)
    out = harness.console()
    with tempfile.TemporaryDirectory(prefix="clearance-bench-") as tmp:
        workdir = Path(tmp)
        started = servers(workdir, plan, loop, args.gateway_log_level)
        with harness.Run(started.all(), loop, out) as run:
            with LoadGenerator(loop) as loadgen, GatewayProfile(args.py_spy, started.gateway.pid):
                benches = [MaskingBench(plan, False, started, loadgen), MaskingBench(plan, True, started, loadgen)]
                measured = benches[0].run_phase(out)
                paced = benches[1].run_phase(out)
            upstream = upstream_reports(workdir, started)
        recorded = harness.audit_rows(workdir / "audit.db")
    checks, ok = correctness(benches, upstream, recorded)
    figures = figures_of(benches[1], measured, paced, checks)
    settings = run.settings(
        args,
        "clearance serve --config (generated; no policy: the default one), audit to SQLite in a temp dir",
        **{
            "chat prompt": "2048-byte JSON body (system + user message with a card, an SSN, an email, a GitHub token)",
            "answer": f"a card, an SSN, an email, a GitHub token; streamed in {plan.instant.events} token-like "
            "content events + finish + usage + [DONE]",
            "phase 1 per target and scenario": f"{plan.instant.rounds} rounds of at most {plan.instant.requests} "
            f"requests or {plan.instant.seconds}s, after a warm-up",
            "phase 2 (paced)": f"first event {plan.first_token_ms:g} ms after the request, then one every "
            f"{plan.event_ms:g} ms; {plan.paced.concurrencies[0]} streams in flight, staggered; "
            f"{plan.paced.rounds} rounds of {plan.paced.seconds}s per target",
        },
    )
    print_masking_report(out, settings, figures)
    if args.json:
        harness.write_json(
            args.json,
            settings,
            plan,
            measurements=harness.measurements_json(figures.measurements),
            paced=harness.measurements_json(figures.paced),
            first_token=[asdict(r) for r in figures.first_token],
            added_first_token=[asdict(a) for a in figures.added],
            bars=[asdict(b) | {"met": b.met} for b in figures.bars],
            checks=figures.checks,
        )
    errors = sum(m.errors for m in [*measured, *paced])
    return 0 if ok and not errors and run.gateway_exited_cleanly else 1


if __name__ == "__main__":
    sys.exit(main())
