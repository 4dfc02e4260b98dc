"""Owned background tasks.

A bare ``asyncio.create_task`` result can be garbage-collected while it runs, silently dropping (say) an audit
write. ``TaskSet`` keeps a strong reference to every task until it finishes and can wait for all of them at
shutdown. The project's lint bans the bare calls (ruff TID251).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("clearance.tasks")


class TaskSet:
    """A set of running tasks, each held until done; failures are logged, never lost."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str | None = None) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "background task failed",
                extra={"task": task.get_name(), "error": repr(task.exception())},
            )

    def __len__(self) -> int:
        return len(self._tasks)

    async def join(self, timeout: float | None = None) -> None:
        """Wait for every task (started so far) to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.join()
