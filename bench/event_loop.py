"""The event loop every benchmark process runs on: uvloop when asked for (and installed), else asyncio's own.

All servers under test get the same loop, so a difference in the figures is never the loop's.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

LoopKind = Literal["uvloop", "asyncio"]
T = TypeVar("T")


def available_loop() -> LoopKind:
    """uvloop if it can be imported here, else asyncio."""
    return "uvloop" if importlib.util.find_spec("uvloop") is not None else "asyncio"


def loop_factory(kind: LoopKind) -> Callable[[], asyncio.AbstractEventLoop] | None:
    if kind == "asyncio":
        return None
    import uvloop

    return uvloop.new_event_loop


def run(main: Coroutine[Any, Any, T], kind: LoopKind) -> T:
    with asyncio.Runner(loop_factory=loop_factory(kind)) as runner:
        return runner.run(main)
