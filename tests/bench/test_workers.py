"""The workers benchmark end to end, shrunk to a smoke run, and its ratios."""

from __future__ import annotations

import json
import math
from pathlib import Path

from bench.figures import Measurement
from bench.workers import GATEWAY, PLAIN, main, scaling, target


def _measured(kind: str, workers: int, stream: bool, completed: int) -> Measurement:
    return Measurement(
        target=target(kind, workers),
        stream=stream,
        concurrency=16,
        completed=completed,
        errors=0,
        elapsed_s=1.0,
        p50_ms=1.0,
        p99_ms=2.0,
        proxy_cpu_ms=0.5,
        upstream_cpu_ms=0.1,
    )


def test_the_ratios_divide_n_workers_by_one_and_the_gateway_by_the_plain_proxy() -> None:
    measurements = [
        _measured(PLAIN, 1, False, 1000),
        _measured(GATEWAY, 1, False, 250),
        _measured(PLAIN, 4, False, 3000),
        _measured(GATEWAY, 4, False, 900),
        _measured(PLAIN, 1, True, 0),
        _measured(GATEWAY, 1, True, 100),
        _measured(PLAIN, 4, True, 400),
        _measured(GATEWAY, 4, True, 300),
    ]
    whole, stream = scaling(measurements, 4)
    assert (whole.stream, stream.stream) == (False, True)
    assert (whole.gateway_scaling, whole.plain_scaling) == (3.6, 3.0)
    assert (whole.gateway_vs_plain_1, whole.gateway_vs_plain_n) == (0.25, 0.3)
    assert stream.gateway_scaling == 3.0
    assert math.isnan(stream.gateway_vs_plain_1)  # nothing to divide by: not a figure


def test_when_the_benchmark_runs_then_every_server_at_both_worker_counts_is_measured_and_audits_everything(
    tmp_path: Path,
) -> None:
    out = tmp_path / "figures.json"
    argv = ["--quick", "--rounds", "1", "--requests", "15", "--seconds", "2", "--concurrency", "2", "--events", "5"]
    assert main([*argv, "--workers", "2", "--json", str(out)]) == 0  # non-zero on an error or a missing record
    figures = json.loads(out.read_text())
    measured = {(m["target"], m["stream"]) for m in figures["measurements"]}
    targets = {target(kind, n) for kind in (PLAIN, GATEWAY) for n in (1, 2)}
    assert measured == {(t, s) for t in targets for s in (False, True)}
    assert all(m["completed"] == 15 and m["errors"] == 0 for m in figures["measurements"])
    assert len(figures["scaling"]) == 2
    for gateway in figures["settings"]["audit records written / requests sent"].split(", "):
        recorded, sent = gateway.split(": ")[1].split(" / ")
        assert recorded == sent
