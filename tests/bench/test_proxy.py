"""The benchmark end to end, shrunk to a smoke run: three servers, the load generator, the figures and the JSON."""

from __future__ import annotations

import json
from pathlib import Path

from bench.figures import TARGETS
from bench.proxy import main


def test_when_the_benchmark_runs_then_every_target_is_measured_and_the_gateway_audits_every_request(
    tmp_path: Path,
) -> None:
    out = tmp_path / "figures.json"
    argv = ["--quick", "--rounds", "1", "--requests", "15", "--seconds", "2", "--concurrency", "2", "--events", "5"]
    assert main([*argv, "--json", str(out)]) == 0  # non-zero on any error or a missing audit record
    figures = json.loads(out.read_text())
    measured = {(m["target"], m["stream"]) for m in figures["measurements"]}
    assert measured == {(t, s) for t in TARGETS for s in (False, True)}
    assert all(m["completed"] == 15 and m["errors"] == 0 for m in figures["measurements"])
    # a smoke run is too short for the OS's 10 ms CPU clock ticks to say much, but every proxy has a figure
    assert all(m["proxy_cpu_ms"] >= 0 for m in figures["measurements"] if m["target"] != "direct")
    assert len(figures["comparisons"]) == 2
    recorded, sent = figures["settings"]["audit records written / requests sent to the gateway"].split(" / ")
    assert recorded == sent
