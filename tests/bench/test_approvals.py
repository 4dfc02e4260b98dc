"""Wait mode across real gateway processes: two ``clearance serve`` instances on one PostgreSQL schema, the request
waiting on one and approved through the other's admin API; and the release benchmark, shrunk to a smoke run."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import openai

from bench.approvals import MODEL, TOKEN, Cluster, approve, main, messages, pending_id, percentile
from bench.event_loop import available_loop
from clearance.proxy.approval_gate import WAIT_HEADER
from clearance.tasks import TaskSet
from clearance.testing.fake_upstream import FakeUpstream

BOUND = 30.0


def test_when_percentiles_are_taken_then_they_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert (percentile(values, 50), percentile(values, 99), percentile([7.0], 99)) == (50.0, 99.0, 7.0)


async def test_when_approved_on_another_instance_then_the_request_waiting_on_this_one_is_released_within_a_second(
    tmp_path: Path, postgres_url: str, fake_upstream: FakeUpstream
) -> None:
    cluster = Cluster(tmp_path, postgres_url, fake_upstream.base_url, instances=2, loop=available_loop())
    await asyncio.to_thread(cluster.__enter__)  # the upstream double answers from this loop meanwhile
    tasks = TaskSet()
    try:
        waiter, approver = cluster.urls
        async with (
            asyncio.timeout(BOUND),
            openai.AsyncOpenAI(base_url=f"{waiter}/v1", api_key=cluster.eve, max_retries=0) as client,
            aiohttp.ClientSession() as session,
        ):
            asking = tasks.spawn(
                client.chat.completions.create(
                    model=MODEL, messages=messages(f"is {TOKEN} valid?"), extra_headers={WAIT_HEADER: "20"}
                )
            )
            approval_id = await pending_id(session, approver, cluster.sec)
            assert fake_upstream.received == []
            assert not asking.done()
            await approve(session, approver, cluster.sec, approval_id)
            approved_at = time.monotonic()
            answer = await asking
            released_after = time.monotonic() - approved_at
            async with session.get(
                f"{approver}/admin/v1/approvals/{approval_id}", headers={"Authorization": f"Bearer {cluster.sec}"}
            ) as response:
                shown = await response.json()
    finally:
        await tasks.cancel_all()
        await asyncio.to_thread(cluster.__exit__)

    assert answer.choices[0].message.content
    assert released_after < 1.0  # waiters also poll the store every second: this is the notification's doing
    [received] = fake_upstream.received
    assert TOKEN in received.body["messages"][0]["content"]  # approved, to a model cleared for it
    assert shown["state"] == "used"


def test_when_the_benchmark_runs_then_every_scenario_releases_its_requests(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"

    assert main(["--rounds", "2", "--think-ms", "1", "--json", str(out)]) == 0

    figures = json.loads(out.read_text())["figures"]
    assert [f["scenario"] for f in figures] == [
        "1 instance, SQLite",
        "1 instance, PostgreSQL",
        "2 instances, PostgreSQL",
    ]
    assert all(f["rounds"] == 2 and 0 < f["p50_ms"] <= f["p99_ms"] < 1000 for f in figures)
