"""What the gateway benchmarks share: the generated gateway, the plan of the rounds, the servers of a run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pytest
from rich.console import Console

from bench.harness import Plan, Run, add_round_options, gateway_config, round_plan
from bench.processes import Server, free_port


def test_when_the_gateway_config_is_generated_then_it_points_at_the_double_and_a_temp_audit(tmp_path: Path) -> None:
    config = gateway_config(9100, {"double": (9101, "bench-model")}, tmp_path / "audit.db", "warning")
    assert config["server"] == {"host": "127.0.0.1", "port": 9100, "drain": {"grace": 0, "deadline": 5}}
    assert config["upstreams"] == [
        {"name": "double", "kind": "openai", "base_url": "http://127.0.0.1:9101/v1", "models": ["bench-model"]}
    ]
    assert config["audit"]["url"] == f"sqlite:///{tmp_path / 'audit.db'}"


def _plan(*argv: str) -> Plan:
    parser = argparse.ArgumentParser()
    add_round_options(parser, rounds=4, concurrency="1,16", events=40)
    return round_plan(parser.parse_args(argv), rounds=4)


@pytest.mark.parametrize(
    ("argv", "rounds", "requests", "seconds"),
    [((), 4, 1500, 1.0), (("--quick",), 2, 400, 0.5), (("--quick", "--rounds", "3", "--requests", "9"), 3, 9, 0.5)],
)
def test_when_options_are_given_then_the_plan_takes_them_over_its_defaults(
    argv: tuple[str, ...], rounds: int, requests: int, seconds: float
) -> None:
    plan = _plan(*argv)
    assert (plan.rounds, plan.requests, plan.seconds) == (rounds, requests, seconds)
    assert plan.concurrencies == (1, 16)


def test_when_a_server_of_the_run_fails_to_start_then_those_started_are_stopped(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    listener = Server("listener", argv, port, tmp_path / "listener.log")
    failing = Server("failing", [sys.executable, "-c", "raise SystemExit(3)"], free_port(), tmp_path / "failing.log")
    run = Run([listener, failing], "asyncio", Console(record=True))
    with pytest.raises(RuntimeError, match="failing exited with 3"), run:
        pytest.fail("the run started")
    assert run.exit_codes == {"failing": 3, "listener": -15}  # SIGTERM
