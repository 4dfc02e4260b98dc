from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.approvals.config import EventKind
from clearance.approvals.lifecycle import approve
from clearance.approvals.model import ApprovalRequest, Transition
from clearance.approvals.store import ApprovalStore
from clearance.approvals.sweeper import ExpirySweeper
from tests.approvals.test_store import ALICE, T0, escalating, request


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ApprovalStore]:
    approvals = ApprovalStore(f"sqlite:///{tmp_path / 'gateway.db'}")
    approvals.create_tables()
    yield approvals
    approvals.close()


class Told:
    def __init__(self) -> None:
        self.events: list[tuple[EventKind, str]] = []

    def __call__(self, kind: EventKind, approval: ApprovalRequest) -> None:
        self.events.append((kind, approval.id))


async def test_when_pending_requests_and_grants_lapse_then_a_sweep_records_and_notifies_each_once(
    store: ApprovalStore,
) -> None:
    undecided = store.create(request({"n": 1}), now=T0).approval
    granted = store.create(request({"n": 2}), now=T0).approval
    granted = store.apply(granted.id, lambda a: approve(a, ALICE, "ok", now=T0 + 10))  # a 600 s grant
    fresh = store.create(request({"n": 3}, now=T0 + 3_000), now=T0 + 3_000).approval
    now = [T0 + 3_601.0]  # the first two: a pending lifetime of 3,600 s and a grant of 600 s are over
    told = Told()
    sweeper = ExpirySweeper(store, told, interval=30, clock=lambda: now[0])

    assert await sweeper.sweep() == 2
    assert sorted(told.events) == sorted([("expired", undecided.id), ("expired", granted.id)])
    assert {store.get(a.id).state for a in (undecided, granted)} == {"expired"}
    assert store.get(fresh.id).state == "pending"
    assert store.get(undecided.id).history[-1].actor == "system"
    assert await sweeper.sweep() == 0  # recorded once, told once
    assert len(told.events) == 2


async def test_when_a_sweep_fails_then_it_is_logged_and_the_next_one_still_runs(
    store: ApprovalStore, caplog: pytest.LogCaptureFixture
) -> None:
    due = store.create(request(), now=T0).approval
    calls = {"n": 0}
    real = store.expire_due

    def flaky(*, now: float) -> list[ApprovalRequest]:
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database away")
        return real(now=now)

    store.expire_due = flaky  # type: ignore[method-assign]
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise asyncio.CancelledError

    told = Told()
    sweeper = ExpirySweeper(store, told, interval=7, clock=lambda: T0 + 4_000, sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await sweeper.run()
    assert sleeps == [7, 7]
    assert told.events == [("expired", due.id)]
    assert "approval expiry sweep failed" in caplog.text
    assert "database away" not in caplog.text


def test_when_the_interval_is_not_positive_then_the_sweeper_refuses_it(store: ApprovalStore) -> None:
    with pytest.raises(ValueError, match="positive"):
        ExpirySweeper(store, Told(), interval=0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


async def test_when_two_instances_sweep_one_database_then_each_due_escalation_is_recorded_and_told_once(
    shared_url: str,
) -> None:
    first, second = ApprovalStore(shared_url), ApprovalStore(shared_url)
    first.create_tables()
    try:
        due = [first.create(escalating({"n": n}), now=T0).approval for n in range(5)]
        not_yet = first.create(escalating({"n": 9}, now=T0 + 600), now=T0 + 600).approval
        now = [T0 + 899.0]
        told = Told()
        sweepers = [ExpirySweeper(s, told, interval=30, clock=lambda: now[0]) for s in (first, second)]

        assert await sweepers[0].escalate() == 0  # not due yet: nothing told
        now[0] = T0 + 900.0  # the rule's 15 minutes are over for the first five
        counts = await asyncio.gather(*(s.sweep() for s in sweepers), *(s.escalate() for s in sweepers))

        assert counts[:2] == [0, 0]  # no expiry due
        assert sum(counts[2:]) <= len(due)
        assert sorted(told.events) == sorted(("escalated", a.id) for a in due)
        for approval in due:
            stored = first.get(approval.id)
            escalations = [t for t in stored.history if t.actor == "system"]
            assert escalations == [Transition("pending", "system", T0 + 900.0, "escalated to leads")]
            assert stored.approvers == ("security", "leads")
        assert first.get(not_yet.id).escalated_at is None
    finally:
        first.close()
        second.close()
