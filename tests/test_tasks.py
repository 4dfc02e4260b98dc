"""Owned background tasks: held until done, failures logged, every one awaited or cancelled at shutdown."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from clearance.tasks import TaskSet


async def test_when_a_task_runs_then_the_set_holds_it_until_it_ends() -> None:
    tasks = TaskSet()
    release = asyncio.Event()
    finished: list[str] = []

    async def work() -> None:
        await release.wait()
        finished.append("done")

    _ = tasks.spawn(work(), name="work")
    gc.collect()  # nothing else refers to the task: only the set keeps it alive
    assert len(tasks) == 1
    release.set()
    await tasks.join()
    assert (finished, len(tasks)) == (["done"], 0)


async def test_when_a_task_fails_then_the_failure_is_logged_with_its_name(caplog: pytest.LogCaptureFixture) -> None:
    tasks = TaskSet()

    async def fail() -> None:
        raise RuntimeError("disk full")

    with caplog.at_level(logging.ERROR, logger="clearance.tasks"):
        _ = tasks.spawn(fail(), name="audit-writer")
        await tasks.join()
        await asyncio.sleep(0)  # done callbacks run on the loop's next turn
    [record] = caplog.records
    assert record.message == "background task failed"
    assert (record.__dict__["task"], record.__dict__["error"]) == ("audit-writer", "RuntimeError('disk full')")
    assert len(tasks) == 0


async def test_when_cancel_all_then_every_task_is_cancelled_and_awaited(caplog: pytest.LogCaptureFixture) -> None:
    tasks = TaskSet()
    started = [tasks.spawn(asyncio.sleep(3600)) for _ in range(3)]
    await asyncio.sleep(0)
    with caplog.at_level(logging.ERROR, logger="clearance.tasks"):
        await tasks.cancel_all()
        await asyncio.sleep(0)
    assert all(task.cancelled() for task in started)
    assert len(tasks) == 0
    assert caplog.records == []  # a cancellation is not a failure


async def test_when_join_times_out_then_the_unfinished_tasks_are_still_held() -> None:
    tasks = TaskSet()
    _ = tasks.spawn(asyncio.sleep(3600))
    await tasks.join(timeout=0)
    assert len(tasks) == 1
    await tasks.cancel_all()
