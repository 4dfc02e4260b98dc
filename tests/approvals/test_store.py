"""The approval store on SQLite and on the real PostgreSQL: create and reuse, list, atomic transitions under
concurrency, the expiry sweep, and the migration that adds its tables."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import inspect, select

from clearance.approvals import lifecycle
from clearance.approvals.lifecycle import approve, cancel, canonical_body_sha256, deny, new_approval, use
from clearance.approvals.model import ApprovalRequest, Requester, Transition
from clearance.approvals.store import DEFAULT_MAX_PENDING, ApprovalStore
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import approval_transitions
from clearance.exceptions import ApprovalNotFound, ApprovalUsed, ClearanceError, NotAnApprover, TooManyPending
from clearance.models import Identity

T0 = 1_000.0
POLICY = "p" * 64
SAM = Requester("sam", kind="service", email="sam@example.com", groups=("dev",), key_id="0123456789ab")
ALICE = Identity("alice", groups=("security",))
BOB = Identity("bob", groups=("security",))
EVE = Identity("eve", groups=("dev",))


def request(
    body: dict[str, Any] | None = None,
    *,
    requester: Requester = SAM,
    rule: str = "secrets-need-approval",
    approvers: tuple[str, ...] = ("security",),
    needed: int = 1,
    now: float = T0,
) -> ApprovalRequest:
    return new_approval(
        requester=requester,
        model="llama",
        endpoint="chat.completions",
        rule=rule,
        reasons=("matched_rule", "restricted_type"),
        level="restricted",
        counts={"GITHUB_TOKEN": 1, "EMAIL_ADDRESS": 2},
        preview="deploy with [GITHUB_TOKEN]",
        body_sha256=canonical_body_sha256(body or {"messages": [{"role": "user", "content": "deploy"}]}),
        policy_version=POLICY,
        approvers=approvers,
        approvals_needed=needed,
        grant_seconds=600.0,
        pending_seconds=3_600.0,
        now=now,
        requester_reason="hotfix",
        released_as={"GITHUB_TOKEN": "unmasked", "EMAIL_ADDRESS": "partial"},
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'gateway.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


@pytest.fixture
def store(url: str) -> Iterator[ApprovalStore]:
    approvals = ApprovalStore(url)
    approvals.create_tables()
    yield approvals
    approvals.close()


def use_as_sam(approval: ApprovalRequest, now: float = T0 + 20) -> ApprovalRequest:
    return use(
        approval,
        SAM,
        body_sha256=approval.body_sha256,
        endpoint=approval.endpoint,
        rule=approval.rule,
        policy_version=POLICY,
        now=now,
    )


# create, reuse, get


def test_when_an_approval_is_created_then_it_reads_back_equal_with_its_history(store: ApprovalStore) -> None:
    approval = request()

    created = store.create(approval, now=T0)

    assert (created.approval, created.reused) == (approval, False)
    assert store.get(approval.id) == approval


def test_when_an_unknown_id_is_read_then_it_is_not_found(store: ApprovalStore) -> None:
    with pytest.raises(ApprovalNotFound):
        store.get("no-such-approval")
    with pytest.raises(ApprovalNotFound):
        store.apply("no-such-approval", lambda a: a)


def test_when_the_same_request_comes_again_while_pending_then_the_pending_approval_is_reused(
    store: ApprovalStore,
) -> None:
    first = store.create(request(), now=T0).approval

    again = store.create(request(now=T0 + 5), now=T0 + 5)

    assert (again.approval.id, again.reused) == (first.id, True)
    assert store.find_pending("sam", first.body_sha256, first.rule, now=T0 + 5) == first
    assert store.count_pending("sam", now=T0 + 5) == 1


def test_when_the_body_rule_requester_endpoint_or_policy_differ_then_a_new_approval_is_made(
    store: ApprovalStore,
) -> None:
    first = store.create(request(), now=T0).approval
    others = [
        request({"messages": [{"role": "user", "content": "deploy again"}]}),
        request(rule="another-rule"),
        request(requester=Requester("kim", groups=("dev",))),
        # a grant is bound to the endpoint and the policy version too: one made for another could never be spent
        replace(request(), endpoint="ollama.chat"),
        replace(request(), policy_version="r" * 64),
    ]

    made = [store.create(other, now=T0) for other in others]

    assert [m.reused for m in made] == [False] * 5
    assert len({first.id, *(m.approval.id for m in made)}) == 6


def test_when_the_pending_one_was_decided_then_the_same_request_makes_a_new_approval(store: ApprovalStore) -> None:
    first = store.create(request(), now=T0).approval
    store.apply(first.id, lambda a: deny(a, ALICE, "no", now=T0 + 1))

    again = store.create(request(now=T0 + 2), now=T0 + 2)

    assert not again.reused and again.approval.id != first.id


def test_when_the_pending_one_has_lapsed_then_it_is_neither_reused_nor_counted(store: ApprovalStore) -> None:
    first = store.create(request(), now=T0).approval
    later = first.expires_at

    assert store.find_pending("sam", first.body_sha256, first.rule, now=later) is None
    assert store.count_pending("sam", now=later) == 0
    assert not store.create(request(now=later), now=later).reused


def test_when_a_requester_reaches_the_pending_limit_then_the_next_request_is_refused(store: ApprovalStore) -> None:
    for n in range(3):
        store.create(request({"n": n}), now=T0, max_pending=3)

    with pytest.raises(TooManyPending) as refused:
        store.create(request({"n": 3}), now=T0, max_pending=3)

    assert refused.value.http_status == 429
    assert store.count_pending("sam", now=T0) == 3
    assert store.create(request({"n": 0}), now=T0, max_pending=3).reused  # a repeat is still answered
    assert not store.create(request({"n": 9}, requester=Requester("kim")), now=T0, max_pending=3).reused


def test_when_the_same_request_arrives_many_times_at_once_then_one_approval_is_made(store: ApprovalStore) -> None:
    start = threading.Barrier(8, timeout=30)

    def send(_: int) -> bool:
        start.wait()
        return store.create(request(), now=T0).reused

    with ThreadPoolExecutor(8) as pool:
        reused = list(pool.map(send, range(8)))

    assert sorted(reused) == [False] + [True] * 7
    assert store.count_pending("sam", now=T0) == 1


def test_when_a_burst_of_different_requests_arrives_at_once_then_the_limit_still_holds(store: ApprovalStore) -> None:
    start = threading.Barrier(8, timeout=30)

    def send(n: int) -> str:
        start.wait()
        try:
            store.create(request({"n": n}), now=T0, max_pending=3)
        except TooManyPending as refused:
            return refused.code
        return "created"

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(8)))

    assert sorted(answers) == ["created"] * 3 + ["too_many_pending"] * 5
    assert store.count_pending("sam", now=T0) == 3


def test_the_default_pending_limit_is_twenty() -> None:
    assert DEFAULT_MAX_PENDING == 20


def test_when_a_decided_approval_is_given_to_create_then_it_is_refused(store: ApprovalStore) -> None:
    with pytest.raises(ValueError, match="new pending approval"):
        store.create(approve(request(), ALICE, now=T0 + 1), now=T0 + 1)


# list


def test_when_approvals_are_listed_then_they_filter_by_state_requester_and_approver_groups(
    store: ApprovalStore,
) -> None:
    security = store.create(request({"n": 1}, now=T0 + 1), now=T0 + 1).approval
    ops = store.create(request({"n": 2}, approvers=("ops",), now=T0 + 2), now=T0 + 2).approval
    kims = store.create(request({"n": 3}, requester=Requester("kim"), now=T0 + 3), now=T0 + 3).approval
    store.apply(security.id, lambda a: deny(a, ALICE, now=T0 + 4))

    def ids(**filters: Any) -> list[str]:
        return [a.id for a in store.list(**filters)]

    assert ids() == [kims.id, ops.id, security.id]  # newest first
    assert ids(state="pending") == [kims.id, ops.id]
    assert ids(state="denied") == [security.id]
    assert ids(requester="sam") == [ops.id, security.id]
    assert ids(approver_groups={"ops", "finance"}) == [ops.id]
    assert ids(state="pending", approver_groups=["security"]) == [kims.id]
    assert ids(approver_groups=["security"], limit=1) == [kims.id]
    assert ids(limit=2) == [kims.id, ops.id]
    assert store.list(state="denied")[0].history[-1] == Transition("denied", "alice", T0 + 4)


def test_when_a_list_starts_after_an_approval_then_it_continues_in_order_ties_by_id(store: ApprovalStore) -> None:
    made = [store.create(request({"n": n}, now=T0 + n // 2), now=T0 + n // 2).approval for n in range(5)]
    everything = store.list()
    assert sorted(a.id for a in everything) == sorted(a.id for a in made)
    pages: list[str] = []
    after: tuple[float, str] | None = None
    while True:
        page = store.list(limit=2, after=after)
        if not page:
            break
        pages += [a.id for a in page]
        after = (page[-1].created_at, page[-1].id)
    assert pages == [a.id for a in everything]
    assert [a.id for a in store.list(requester="sam", after=(everything[1].created_at, everything[1].id))] == [
        a.id for a in everything[2:]
    ]


# apply


def test_when_a_transition_is_applied_then_the_state_and_the_transition_are_stored(store: ApprovalStore) -> None:
    approval = store.create(request(needed=2), now=T0).approval

    once = store.apply(approval.id, lambda a: approve(a, ALICE, "fine", now=T0 + 1))
    twice = store.apply(approval.id, lambda a: approve(a, BOB, "fine too", now=T0 + 2))

    assert store.get(approval.id) == twice
    assert once.state == "pending" and twice.state == "approved"
    assert twice.approved_by == ("alice", "bob")
    assert set(twice.approver_names) >= {"alice", "bob"}  # every name they went by, kept (not shown)
    assert [(t.state, t.actor) for t in twice.history] == [
        ("pending", "sam"), ("pending", "alice"), ("approved", "bob"),
    ]  # fmt: skip


def test_when_a_transition_is_refused_then_nothing_is_written(store: ApprovalStore) -> None:
    approval = store.create(request(), now=T0).approval

    with pytest.raises(NotAnApprover):
        store.apply(approval.id, lambda a: approve(a, EVE, now=T0 + 1))

    assert store.get(approval.id) == approval


def test_when_a_change_rewrites_history_then_it_is_refused(store: ApprovalStore) -> None:
    approval = store.create(request(), now=T0).approval

    with pytest.raises(ValueError, match="extend its history"):
        store.apply(approval.id, lambda a: approve(request(), ALICE, now=T0 + 1))


def test_when_a_change_adds_nothing_then_nothing_is_written(store: ApprovalStore) -> None:
    approval = store.create(request(), now=T0).approval

    assert store.apply(approval.id, lambda a: a) == approval


def test_when_a_grant_is_used_then_a_second_use_is_refused(store: ApprovalStore) -> None:
    approval = store.create(request(), now=T0).approval
    store.apply(approval.id, lambda a: approve(a, ALICE, now=T0 + 1))

    used = store.apply(approval.id, use_as_sam)

    assert used.state == "used"
    with pytest.raises(ApprovalUsed):
        store.apply(approval.id, use_as_sam)


Change = Callable[[ApprovalRequest], ApprovalRequest]


def racing(count: int, calls: list[str]) -> Callable[[Change], Change]:
    """Wrap a change so that ``count`` threads have all read the approval before any of them writes (first try
    only: a retry after a lost race goes straight on). Each call of a change is noted in ``calls``."""
    barrier = threading.Barrier(count, timeout=30)

    def wrap(change: Change) -> Change:
        tried = threading.local()

        def wrapped(approval: ApprovalRequest) -> ApprovalRequest:
            calls.append(approval.state)
            if not getattr(tried, "once", False):
                tried.once = True
                barrier.wait()
            return change(approval)

        return wrapped

    return wrap


def outcomes(store: ApprovalStore, approval_id: str, changes: list[Change]) -> list[object]:
    def attempt(change: Change) -> object:
        try:
            return store.apply(approval_id, change)
        except ClearanceError as error:
            return error

    with ThreadPoolExecutor(len(changes)) as pool:
        return list(pool.map(attempt, changes))


def test_when_two_threads_use_one_grant_at_once_then_exactly_one_succeeds(store: ApprovalStore) -> None:
    approval = store.create(request(), now=T0).approval
    store.apply(approval.id, lambda a: approve(a, ALICE, now=T0 + 1))
    calls: list[str] = []
    wrap = racing(2, calls)

    results = outcomes(store, approval.id, [wrap(use_as_sam), wrap(use_as_sam)])

    assert sorted(type(r).__name__ for r in results) == ["ApprovalRequest", "ApprovalUsed"]
    assert calls == ["approved", "approved", "used"]  # the loser really raced, and retried on the used grant
    stored = store.get(approval.id)
    assert stored.state == "used"
    assert [t.state for t in stored.history].count("used") == 1


def test_when_a_use_commits_between_reading_the_row_and_its_history_then_the_second_use_is_refused(
    url: str, store: ApprovalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row is read first, its transitions next: another instance's use committed in between must not make the
    approval look approved with the used step in its history (which would pass the conditional write)."""
    approval = store.create(request(), now=T0).approval
    store.apply(approval.id, lambda a: approve(a, ALICE, now=T0 + 1))
    other = ApprovalStore(url)
    load = store._load
    raced: list[bool] = []

    def load_after_a_race(connection: Any, rows: Any) -> list[ApprovalRequest]:
        if not raced:
            raced.append(True)
            other.apply(approval.id, use_as_sam)
        return load(connection, rows)

    monkeypatch.setattr(store, "_load", load_after_a_race)

    with pytest.raises(ApprovalUsed):
        store.apply(approval.id, use_as_sam)

    assert [t.state for t in store.get(approval.id).history] == ["pending", "approved", "used"]
    other.close()


def test_when_two_approvers_approve_at_once_then_neither_transition_is_lost(store: ApprovalStore) -> None:
    approval = store.create(request(needed=2), now=T0).approval
    calls: list[str] = []
    wrap = racing(2, calls)

    results = outcomes(
        store,
        approval.id,
        [wrap(lambda a: approve(a, ALICE, now=T0 + 1)), wrap(lambda a: approve(a, BOB, now=T0 + 1))],
    )

    assert all(isinstance(r, ApprovalRequest) for r in results)
    assert calls == ["pending", "pending", "pending"]  # both read it undecided; the loser applied its approval again
    stored = store.get(approval.id)
    assert stored.state == "approved"
    assert sorted(stored.approved_by) == ["alice", "bob"]
    assert [t.state for t in stored.history] == ["pending", "pending", "approved"]
    engine = make_engine(store.url)
    with engine.connect() as connection:
        seqs = connection.execute(
            select(approval_transitions.c.seq).where(approval_transitions.c.approval_id == approval.id)
        ).scalars()
        assert sorted(seqs) == [0, 1, 2]
    engine.dispose()


# expiry


def test_when_the_sweep_runs_then_lapsed_pending_requests_and_grants_expire_and_the_rest_stay(
    store: ApprovalStore,
) -> None:
    waiting = store.create(request({"n": 1}), now=T0).approval  # pending until T0 + 3600
    granted = store.create(request({"n": 2}), now=T0).approval
    store.apply(granted.id, lambda a: approve(a, ALICE, now=T0 + 10))  # granted until T0 + 610
    fresh = store.create(request({"n": 3}, now=T0 + 3_000), now=T0 + 3_000).approval
    cancelled = store.create(request({"n": 4}), now=T0).approval
    store.apply(cancelled.id, lambda a: cancel(a, SAM, now=T0 + 1))

    expired = store.expire_due(now=T0 + 3_600)

    assert sorted(a.id for a in expired) == sorted([waiting.id, granted.id])
    assert [store.get(i).state for i in (waiting.id, granted.id, fresh.id, cancelled.id)] == [
        "expired", "expired", "pending", "cancelled",
    ]  # fmt: skip
    assert store.get(waiting.id).history[-1] == Transition("expired", lifecycle.SYSTEM, T0 + 3_600)
    assert store.expire_due(now=T0 + 3_600) == []


# the migration


def test_when_a_database_at_0004_is_upgraded_then_the_approval_tables_come_and_go_back_on_downgrade(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "0004")
    assert not {"approval_requests", "approval_transitions"} & set(inspect(engine).get_table_names())

    migrate.upgrade(engine)
    assert {"approval_requests", "approval_transitions"} <= set(inspect(engine).get_table_names())
    approvals = ApprovalStore(url)
    approval = approvals.create(request(), now=T0).approval
    assert approvals.get(approval.id) == approval
    approvals.close()

    migrate.downgrade(engine, "0004")

    assert migrate.current_revision(engine) == "0004"
    assert not {"approval_requests", "approval_transitions"} & set(inspect(engine).get_table_names())
    engine.dispose()


# reasons, escalation, break-glass (migration 0007)

ONCALL = Requester("olga", kind="service", groups=("dev", "oncall"))


def escalating(body: dict[str, Any], *, now: float = T0) -> ApprovalRequest:
    return new_approval(
        requester=SAM,
        model="llama",
        endpoint="chat.completions",
        rule="secrets-need-approval",
        reasons=("matched_rule",),
        level="restricted",
        counts={"GITHUB_TOKEN": 1},
        preview="deploy with [GITHUB_TOKEN]",
        body_sha256=canonical_body_sha256(body),
        policy_version=POLICY,
        approvers=("security",),
        approvals_needed=1,
        grant_seconds=600.0,
        pending_seconds=3_600.0,
        now=now,
        requester_reason="hotfix",
        reason_from="both",
        escalate_to=("leads",),
        escalate_after=900.0,
    )


def test_when_an_approval_with_a_rules_reason_and_escalation_is_stored_then_it_reads_back_whole(
    store: ApprovalStore,
) -> None:
    approval = store.create(escalating({"n": 1}), now=T0).approval

    read = store.get(approval.id)

    assert read == approval
    assert (read.reason_from, read.escalate_to, read.escalate_at, read.escalated_at) == (
        "both",
        ("leads",),
        T0 + 900,
        None,
    )
    assert (read.break_glass, read.review, read.reviewed_by, read.reviewed_at, read.review_reason) == (
        False, None, None, None, "",
    )  # fmt: skip


def test_when_escalations_fall_due_then_each_pending_one_is_escalated_once(store: ApprovalStore) -> None:
    due = store.create(escalating({"n": 1}), now=T0).approval
    later = store.create(escalating({"n": 2}, now=T0 + 500), now=T0 + 500).approval
    decided = store.create(escalating({"n": 3}), now=T0).approval
    store.apply(decided.id, lambda a: approve(a, ALICE, "ok", now=T0 + 10))
    plain = store.create(request({"n": 4}), now=T0).approval

    escalated = store.escalate_due(now=T0 + 900)

    assert [a.id for a in escalated] == [due.id]
    stored = store.get(due.id)
    assert (stored.state, stored.approvers, stored.escalated_at) == ("pending", ("security", "leads"), T0 + 900)
    assert stored.history[-1] == Transition("pending", lifecycle.SYSTEM, T0 + 900, "escalated to leads")
    assert store.escalate_due(now=T0 + 901) == []
    assert [a.id for a in store.list(approver_groups=("leads",))] == [due.id]
    assert {store.get(a.id).escalated_at for a in (later, decided, plain)} == {None}
    assert store.escalate_due(now=T0 + 4_100) == []  # later lapsed before anyone escalated it: expiry's turn


def test_when_a_break_glass_is_recorded_and_acknowledged_then_its_review_reads_back(store: ApprovalStore) -> None:
    asked = request({"n": 1}, requester=ONCALL)
    granted = store.record_break_glass(lifecycle.break_glass(asked, ONCALL, "prod down", groups=("oncall",), now=T0))
    other = store.create(request({"n": 2}), now=T0).approval
    assert store.get(granted.id) == granted
    assert [a.id for a in store.list(review="pending")] == [granted.id]

    reviewed = store.apply(granted.id, lambda a: lifecycle.acknowledge(a, ALICE, "INC-7", now=T0 + 5, auditor=False))

    assert store.get(granted.id) == reviewed
    assert (reviewed.review, reviewed.reviewed_by, reviewed.reviewed_at, reviewed.review_reason) == (
        "acknowledged", "alice", T0 + 5, "INC-7",
    )  # fmt: skip
    assert store.list(review="pending") == []
    assert [a.id for a in store.list(review="acknowledged")] == [granted.id]
    assert store.count_pending("olga", now=T0) == 0  # never pending: not counted against the limit
    assert other.id not in {a.id for a in store.list(review="acknowledged")}


def test_when_something_else_is_recorded_as_break_glass_then_it_is_refused(store: ApprovalStore) -> None:
    with pytest.raises(ValueError, match="break-glass"):
        store.record_break_glass(request())


def test_when_a_database_at_0006_is_upgraded_then_its_approvals_read_with_no_reason_escalation_or_break_glass(
    url: str,
) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine, "0006")
    old = request()
    row = {
        "id": old.id, "version": 1, "state": "pending", "requester_subject": "sam", "requester_kind": "service",
        "requester_email": None, "requester_groups": [], "requester_key_id": None, "model": "llama",
        "endpoint": "chat.completions", "rule": old.rule, "reasons": [], "level": "restricted", "counts": {},
        "preview": "", "body_sha256": old.body_sha256, "policy_version": POLICY, "approvers": ["security"],
        "approvals_needed": 1, "grant_seconds": 600.0, "created_at": T0, "expires_at": T0 + 3_600,
        "requester_reason": "", "approved_by": [],
    }  # fmt: skip
    old_table = sa.Table("approval_requests", sa.MetaData(), autoload_with=engine)
    with engine.begin() as connection:
        connection.execute(old_table.insert().values(**row))
        connection.execute(
            approval_transitions.insert().values(
                approval_id=old.id, seq=0, state="pending", actor="sam", at=T0, reason=""
            )
        )

    migrate.upgrade(engine)
    approvals = ApprovalStore(url)
    read = approvals.get(old.id)
    approvals.close()

    assert (read.reason_from, read.escalate_to, read.escalate_at, read.break_glass, read.review) == (
        "none", (), None, False, None,
    )  # fmt: skip
    assert read.approver_names == ()  # 0009: approvers' names of older approvals are their subjects alone
    migrate.downgrade(engine, "0006")
    assert "break_glass" not in {c["name"] for c in inspect(engine).get_columns("approval_requests")}
    engine.dispose()
