"""Every benchmark process runs on the loop it is told to."""

from __future__ import annotations

import asyncio

import pytest

from bench.event_loop import LoopKind, available_loop, run


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


@pytest.mark.parametrize(("kind", "module"), [("uvloop", "uvloop"), ("asyncio", "asyncio.unix_events")])
def test_when_a_loop_is_chosen_then_the_coroutine_runs_on_it(kind: LoopKind, module: str) -> None:
    pytest.importorskip("uvloop")
    assert run(_loop_module(), kind) == module


def test_when_uvloop_is_installed_then_it_is_the_available_loop() -> None:
    pytest.importorskip("uvloop")
    assert available_loop() == "uvloop"
