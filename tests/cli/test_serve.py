"""``clearance serve`` picks its event loop (uvloop when installed, asyncio's own otherwise) and its worker count."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from clearance.cli.serve import build_config, event_loop_factory
from clearance.exceptions import ConfigError

uvloop = pytest.importorskip("uvloop")


def test_when_uvloop_is_installed_then_the_gateway_runs_on_it() -> None:
    factory = event_loop_factory()
    assert factory is not None
    with asyncio.Runner(loop_factory=factory) as runner:
        assert isinstance(runner.get_loop(), uvloop.Loop)


def test_when_uvloop_is_missing_then_asyncio_s_own_loop_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes ``import uvloop`` raise ImportError
    assert event_loop_factory() is None
    with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
        assert not isinstance(runner.get_loop(), uvloop.Loop)


def test_when_workers_is_given_on_the_command_line_then_it_wins_over_the_file(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text("server:\n  workers: 3\n")
    assert build_config(config, None, "openai", None, None).server.workers == 3
    assert build_config(config, None, "openai", None, None, "auto").server.workers == "auto"
    assert build_config(config, None, "openai", None, None, "2").server.workers == 2


@pytest.mark.parametrize("workers", ["0", "many"])
def test_when_workers_is_not_a_count_then_the_error_names_the_key(workers: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_config(None, None, "openai", None, None, workers)
    assert {path for path, _ in caught.value.errors} >= {"server.workers.literal['auto']"}
