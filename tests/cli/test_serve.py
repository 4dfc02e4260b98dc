"""``clearance serve`` picks its event loop: uvloop when installed, asyncio's own otherwise."""

from __future__ import annotations

import asyncio
import sys

import pytest

from clearance.cli.serve import event_loop_factory

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
