"""The masking benchmark end to end, shrunk to a smoke run: five servers, both phases, every check, the JSON."""

from __future__ import annotations

import json
from pathlib import Path

from bench.figures import TARGETS
from bench.masking import PACED_MODEL, main, masking_gateway_config


def test_when_the_gateway_config_is_generated_then_it_routes_the_paced_model_to_the_paced_double(
    tmp_path: Path,
) -> None:
    config = masking_gateway_config(9100, 9101, 9102, tmp_path / "audit.db", "warning")
    routes = {u["name"]: (u["base_url"], u["models"]) for u in config["upstreams"]}
    assert routes["double"] == ("http://127.0.0.1:9101/v1", ["bench-model"])
    assert routes["paced"] == ("http://127.0.0.1:9102/v1", [PACED_MODEL])
    assert "policy" not in config  # the built-in default policy: what every gateway gets out of the box


def test_when_the_benchmark_runs_then_every_target_is_measured_and_every_check_passes(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    argv = ["--quick", "--rounds", "1", "--requests", "12", "--seconds", "2", "--concurrency", "2"]
    argv += ["--paced-rounds", "1", "--paced-seconds", "0.5", "--paced-concurrency", "2", "--event-ms", "2"]
    assert main([*argv, "--json", str(out)]) == 0  # non-zero on a failed check, a failed request, a missing record
    figures = json.loads(out.read_text())
    measured = {(m["target"], m["stream"]) for m in figures["measurements"]}
    assert measured == {(t, s) for t in TARGETS for s in (False, True)}
    assert all(m["completed"] == 12 and m["errors"] == 0 for m in figures["measurements"])
    assert {m["target"] for m in figures["paced"]} == set(TARGETS)
    first = {row["target"]: row for row in figures["first_token"]}
    # the paced double sends its first event 100 ms after the request: nobody sees text sooner
    assert all(row["samples"] > 0 and row["ttft_p50_ms"] >= 100.0 for row in first.values())
    assert first["gateway"]["first_event_p50_ms"] <= first["gateway"]["ttft_p50_ms"]
    assert len(figures["bars"]) == 3  # CPU per whole request, per stream, added time to first token
    checks = figures["checks"]
    assert len(checks) == 5
    assert all("FAILED" not in verdict for verdict in checks.values())
    assert all(" 0 failed" in verdict for name, verdict in checks.items() if not name.startswith("audit"))
