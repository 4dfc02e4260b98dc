"""The per-core benchmark: its targets judged the right way round, its figures read from the right scenarios, the
issue's own traffic as the primary table, the RSS sampler, and a smoke run end to end (both traffics, five servers
each, every check, the JSON)."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import cast

import pytest

from bench.figures import DIRECT, GATEWAY, PLAIN, Measurement
from bench.loadgen import chat_body
from bench.masking import PACED_MODEL, MaskingBench, Servers
from bench.percore import (
    CPU_STREAM,
    CPU_WHOLE,
    ORDINARY,
    PER_CORE,
    RSS,
    SENSITIVE,
    STREAM_EVENTS,
    TARGETS,
    TTFT_P99,
    PeakRss,
    Target,
    main,
    make_plan,
    parse_args,
    readings,
)
from bench.processes import LoadGenerator, Server
from bench.upstream_double import REPLY


@pytest.mark.parametrize(
    ("target", "figure", "met"),
    [
        (Target("at most", 0.6, "ms"), 0.6, True),
        (Target("at most", 0.6, "ms"), 0.61, False),
        (Target("at least", 3000.0, "req/s", at_most=False), 3000.0, True),
        (Target("at least", 3000.0, "req/s", at_most=False), 2999.0, False),
        (Target("at most", 0.6, "ms"), math.nan, None),
    ],
)
def test_when_a_figure_is_judged_then_the_target_says_which_way_it_must_lie(
    target: Target, figure: float, met: bool | None
) -> None:
    assert target.met(figure) is met


def test_when_the_targets_are_listed_then_they_are_the_issues_five() -> None:
    limits = {t.name: (t.limit, t.at_most) for t in TARGETS}
    assert limits == {
        CPU_WHOLE.name: (0.6, True),
        CPU_STREAM.name: (1.2, True),
        PER_CORE.name: (3000.0, False),
        TTFT_P99.name: (5.0, True),
        RSS.name: (120.0, True),
    }


def _m(target: str, stream: bool, concurrency: int, cpu: float | None) -> Measurement:
    return Measurement(target, stream, concurrency, 10, 0, 1.0, 1.0, 2.0, cpu, 0.1)


def test_when_readings_are_made_then_each_figure_comes_from_its_own_scenario() -> None:
    measured = [
        _m(DIRECT, False, 1, None),
        _m(PLAIN, False, 1, 0.3),
        _m(GATEWAY, False, 1, 0.5),
        _m(PLAIN, False, 16, 0.125),
        _m(GATEWAY, False, 16, 0.4),
        _m(PLAIN, True, 1, 0.7),
        _m(GATEWAY, True, 1, 1.5),
    ]
    found = {r.target: r for r in readings(measured, {PLAIN: 0.8, GATEWAY: 7.0}, {PLAIN: 40.0, GATEWAY: 110.0})}
    assert (found[CPU_WHOLE].plain, found[CPU_WHOLE].gateway, found[CPU_WHOLE].met) == (0.3, 0.5, True)
    assert (found[CPU_STREAM].plain, found[CPU_STREAM].gateway, found[CPU_STREAM].met) == (0.7, 1.5, False)
    assert (found[PER_CORE].plain, found[PER_CORE].gateway, found[PER_CORE].met) == (8000.0, 2500.0, False)
    assert (found[TTFT_P99].gateway, found[TTFT_P99].met) == (7.0, False)
    assert (found[RSS].plain, found[RSS].gateway, found[RSS].met) == (40.0, 110.0, True)
    # the gateway's cost in plain pass-throughs: CPU and memory as they are, throughput inverted, latency none
    assert [found[t].times_plain for t in (CPU_WHOLE, CPU_STREAM, PER_CORE, RSS)] == [
        pytest.approx(0.5 / 0.3),
        pytest.approx(1.5 / 0.7),
        pytest.approx(8000.0 / 2500.0),
        pytest.approx(110.0 / 40.0),
    ]
    assert math.isnan(found[TTFT_P99].times_plain)


def test_when_going_direct_had_the_worse_p99_then_the_first_token_target_is_not_judged() -> None:
    """A negative added time means the baseline's own p99 was the noisier: calling that "met" would be a lie."""
    (ttft,) = [r for r in readings([], {PLAIN: -40.0, GATEWAY: -12.0}, {}) if r.target is TTFT_P99]
    assert ttft.met is None


def test_when_a_scenario_is_missing_then_its_figure_is_unknown_not_met_or_missed() -> None:
    found = readings([], {}, {})
    assert all(math.isnan(r.gateway) and r.met is None for r in found)


def test_when_rss_is_sampled_then_the_peak_covers_memory_allocated_inside_the_block() -> None:
    with PeakRss(os.getpid(), interval_s=0.005) as before:
        pass
    grown = before.peak_bytes + 60 * 1024 * 1024
    with PeakRss(os.getpid(), interval_s=0.005) as during:
        block = bytearray(64 * 1024 * 1024)
        for i in range(0, len(block), 4096):  # touched, so it is resident
            block[i] = 1
        deadline = time.monotonic() + 10
        while during.peak_bytes < grown and time.monotonic() < deadline:  # a bounded wait for the next sample
            time.sleep(0.005)
        del block
    assert before.peak_bytes > 0
    assert during.peak_bytes >= grown


def test_when_the_plan_is_made_then_the_primary_traffic_is_the_issues_own_ordinary_prose() -> None:
    """The issue's baseline came from bench.proxy's traffic: the primary table must be measured on it, not on the
    sensitive payloads (which cost several times more)."""
    plan = make_plan(parse_args([]))
    assert plan.masking.sensitive is False
    assert (plan.masking.instant.events, plan.masking.paced.concurrencies, plan.open_plan().paced.concurrencies) == (
        STREAM_EVENTS,
        (16,),
        (64,),
    )


@pytest.mark.parametrize("stream", [False, True])
def test_when_the_ordinary_traffic_is_sent_then_it_is_the_proxy_benchmarks_body_and_reply(stream: bool) -> None:
    plan = replace(make_plan(parse_args(["--quick"])).masking, sensitive=False)
    servers = Servers(*(Server(name, [], 1, Path(name)) for name in ("up", "paced up", "plain", "paced", "gw")))
    bench = MaskingBench(plan, True, servers, cast(LoadGenerator, None))
    extras = bench.command_extras(GATEWAY, stream, 16)
    assert extras["body"] == chat_body(stream, model=PACED_MODEL).decode()
    assert extras["required"] == [REPLY.strip()] and not extras.get("forbidden")
    sensitive = MaskingBench(replace(plan, sensitive=True), True, servers, cast(LoadGenerator, None))
    assert "4539 1488 0343 6467" in sensitive.command_extras(GATEWAY, stream, 16)["body"]


def test_when_the_benchmark_runs_then_every_figure_is_read_for_both_traffics_and_every_check_passes(
    tmp_path: Path,
) -> None:
    out = tmp_path / "figures.json"
    argv = ["--quick", "--rounds", "1", "--requests", "12", "--seconds", "2", "--paced-seconds", "0.7"]
    argv += ["--open-streams", "8", "--open-seconds", "0.7", "--sensitive"]
    assert main([*argv, "--json", str(out)]) == 0  # non-zero on a failed check, a failed request, a missing record
    document = json.loads(out.read_text())
    assert document["settings"]["traffic"] == ORDINARY.title
    assert document["sensitive"]["settings"]["traffic"] == SENSITIVE.title
    for figures in (document, document["sensitive"]):
        scenarios = {(m["target"], m["stream"], m["concurrency"]) for m in figures["measurements"]}
        for target in (DIRECT, PLAIN, GATEWAY):
            assert {(target, False, 1), (target, False, 16), (target, True, 1), (target, True, 16)} <= scenarios
            assert (target, True, 8) in scenarios
        assert all(m["errors"] == 0 for m in figures["measurements"])
        found = {r["figure"]: r for r in figures["readings"]}
        assert set(found) == {t.name for t in TARGETS}
        # the gateway's process holds far more than a few MB while streams are open; so does the plain proxy's
        assert found[RSS.name]["gateway"] > 20 and found[RSS.name]["plain"] > 10
        assert found[TTFT_P99.name]["gateway"] == found[TTFT_P99.name]["gateway"]  # a number, not NaN
        assert all(m["proxy_cpu_ms"] >= 0 for m in figures["measurements"] if m["target"] != DIRECT)
        assert all("FAILED" not in verdict for verdict in figures["checks"].values())
    # each traffic checked what it should: the reply in every ordinary answer, the masking in every sensitive one
    assert any("the double's reply" in name for name in document["checks"])
    assert any("masked forms present" in name for name in document["sensitive"]["checks"])
