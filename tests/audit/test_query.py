"""Reading the trail back on SQLite and PostgreSQL: every filter, keyset pages that neither skip nor repeat, and a
stream that holds one page at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from clearance.approvals.lifecycle import approve
from clearance.approvals.model import ApprovalRequest
from clearance.approvals.store import ApprovalStore
from clearance.audit.query import RecordFilter, batch, count_upto, get, iter_records, page
from clearance.audit.store import SqlAuditStore
from clearance.models import AuditRecord, Identity
from tests.approvals.test_store import ALICE, BOB, request
from tests.approvals.test_store import T0 as APPROVAL_T0
from tests.audit.conftest import trail_record

T0 = 1_700_000_000.25


def seeded(i: int) -> AuditRecord:
    """Record ``i`` of a trail of three callers, two models, alternating decisions and findings."""
    subject = ("sam", "eve", "olga")[i % 3]
    groups = {"sam": ("engineering",), "eve": ("engineering", "oncall"), "olga": ("finance",)}[subject]
    return replace(
        trail_record(i),
        request_id=f"req-{i}",
        subject=subject,
        groups=groups,
        identity_kind="service",
        auth_method="api_key",
        model="llama" if i % 2 else "mistral",
        decision="block" if i % 4 == 0 else "allow",
        rule="secrets" if i % 4 == 0 else "default",
        level="restricted" if i % 4 == 0 else "internal",
        status=403 if i % 4 == 0 else 200,
        findings={"GITHUB_TOKEN": 1} if i % 4 == 0 else ({"EMAIL_ADDRESS": 2} if i % 2 else {}),
    )


@pytest.fixture
async def engine(trail_url: str) -> AsyncIterator[Engine]:
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    for i in range(24):
        store.record(seeded(i))
    await store.flush()
    yield store.engine
    await store.close()


def ids(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["request_id"]) for row in rows]


def expected(keep: object) -> list[str]:
    """The request ids of the seeded records ``keep`` accepts, newest first."""
    return [f"req-{i}" for i in reversed(range(24)) if keep(seeded(i))]  # type: ignore[operator]


@pytest.mark.parametrize(
    ("wanted", "keep"),
    [
        (RecordFilter(subject="eve"), lambda r: r.subject == "eve"),
        (RecordFilter(group="oncall"), lambda r: "oncall" in r.groups),
        (RecordFilter(group="engineering"), lambda r: "engineering" in r.groups),
        (RecordFilter(model="llama"), lambda r: r.model == "llama"),
        (RecordFilter(level="restricted"), lambda r: r.level == "restricted"),
        (RecordFilter(decision="block"), lambda r: r.decision == "block"),
        (RecordFilter(rule="default"), lambda r: r.rule == "default"),
        (RecordFilter(type="EMAIL_ADDRESS"), lambda r: "EMAIL_ADDRESS" in r.findings),
        (RecordFilter(type="GITHUB"), lambda r: False),
        (RecordFilter(status=403), lambda r: r.status == 403),
        (RecordFilter(request_id="req-7"), lambda r: r.request_id == "req-7"),
        (
            RecordFilter(since=datetime.fromtimestamp(T0 + 5, UTC), until=datetime.fromtimestamp(T0 + 9, UTC)),
            lambda r: T0 + 5 <= r.started_at < T0 + 9,
        ),
        (RecordFilter(subject="sam", decision="block", type="GITHUB_TOKEN"), lambda r: r.subject == "sam"
         and r.decision == "block"),
    ],
)  # fmt: skip
async def test_when_a_filter_is_given_then_a_page_holds_exactly_the_matching_records_newest_first(
    engine: Engine, wanted: RecordFilter, keep: object
) -> None:
    assert ids(page(engine, wanted, limit=100)) == expected(keep)


async def test_when_paging_by_the_last_id_then_every_record_comes_once_in_order(engine: Engine) -> None:
    seen: list[str] = []
    before = None
    for _ in range(10):  # 24 records, pages of 5: five pages
        rows = page(engine, RecordFilter(group="engineering"), limit=5, before=before)
        seen.extend(ids(rows))
        if len(rows) < 5:
            break
        before = int(rows[-1]["id"])

    assert seen == expected(lambda r: "engineering" in r.groups)


async def test_when_a_record_is_got_by_id_then_it_is_that_row_and_an_unknown_id_is_none(engine: Engine) -> None:
    newest = page(engine, RecordFilter(), limit=1)[0]

    assert get(engine, int(newest["id"])) == newest
    assert get(engine, 10_000) is None


async def test_when_streaming_then_every_match_comes_oldest_first_a_page_at_a_time(engine: Engine) -> None:
    pages: list[int] = []

    rows = list(iter_records(engine, RecordFilter(model="llama"), page_size=5, on_page=pages.append))

    assert ids(rows) == list(reversed(expected(lambda r: r.model == "llama")))
    assert pages == [5, 5, 2]


async def test_when_filtered_by_approver_then_only_records_whose_approval_they_approved_come(engine: Engine) -> None:
    approvals = ApprovalStore(str(engine.url.render_as_string(hide_password=False)))
    approvals.create_tables()
    try:
        by_alice = approvals.apply(approvals.create(request({"n": 1}), now=APPROVAL_T0).approval.id, _approving(ALICE))
        twice = approvals.create(request({"n": 2}, needed=2), now=APPROVAL_T0).approval
        twice = approvals.apply(approvals.apply(twice.id, _approving(BOB)).id, _approving(ALICE))
        pending = approvals.create(request({"n": 3}), now=APPROVAL_T0).approval
    finally:
        approvals.close()
    store = SqlAuditStore(str(engine.url.render_as_string(hide_password=False)), linger_s=0)
    await store.start()
    for i, approval_id in [(30, by_alice.id), (31, twice.id), (32, pending.id), (33, "apr_unknown")]:
        store.record(replace(seeded(i), approval_id=approval_id))
    await store.flush()
    await store.close()

    assert ids(page(engine, RecordFilter(approver="alice"), limit=50)) == ["req-31", "req-30"]
    assert ids(page(engine, RecordFilter(approver="bob"), limit=50)) == ["req-31"]
    assert ids(page(engine, RecordFilter(approver="sam"), limit=50)) == []


async def test_when_batches_are_read_then_they_stop_at_the_record_given_and_count_is_bounded(engine: Engine) -> None:
    wanted = RecordFilter(subject="eve")
    counted, newest = count_upto(engine, wanted, limit=1000)
    first = batch(engine, wanted, size=3)
    second = batch(engine, wanted, after=first[-1]["id"], through=newest, size=3)
    capped, _ = count_upto(engine, wanted, limit=5)

    assert counted == len(expected(lambda r: r.subject == "eve")) == 8
    assert ids(first + second) == ["req-1", "req-4", "req-7", "req-10", "req-13", "req-16"]
    assert ids(batch(engine, wanted, through=first[1]["id"])) == ["req-1", "req-4"]
    assert capped == 5
    assert count_upto(engine, RecordFilter(subject="nobody"), limit=10)[0] == 0


def _approving(who: Identity) -> Callable[[ApprovalRequest], ApprovalRequest]:
    return lambda approval: approve(approval, who, now=APPROVAL_T0 + 1)
