"""The trail's figures over a window, counted in SQL on SQLite and PostgreSQL, against the same figures worked out in
Python from the records written: a seeded trail of callers, models, decisions (some none) and findings (some none),
spread over two days; windows that cut it anywhere; buckets aligned on their length."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from clearance.audit.stats import NO_DECISION, NONE, bucket_starts, window_stats
from clearance.audit.store import SqlAuditStore
from clearance.models import AuditRecord
from tests.audit.conftest import trail_record

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
DAY = 86400.0
TYPES = ("EMAIL_ADDRESS", "GITHUB_TOKEN", "CREDIT_CARD", "PERSON")


def seeded_trail(n: int = 120, seed: int = 15) -> list[AuditRecord]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        findings = {t: rng.randint(1, 4) for t in TYPES if rng.random() < 0.3}
        records.append(
            replace(
                trail_record(i),
                started_at=T0 + rng.uniform(0, 2 * DAY),
                subject=rng.choice(["sam", "eve", "olga", None]),
                model=rng.choice(["llama", "mistral", "qwen", None]),
                decision=rng.choice(["allow", "mask", "require_approval", "block", None]),
                findings=findings,
            )
        )
    return records


TRAIL = seeded_trail()


@pytest.fixture
async def engine(trail_url: str) -> AsyncIterator[Engine]:
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    for record in TRAIL:
        store.record(record)
    await store.flush()
    yield store.engine
    await store.close()


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def inside(since: float, until: float) -> list[AuditRecord]:
    return [r for r in TRAIL if since <= r.started_at < until]


def ranked(counts: Counter[str], top: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]


WINDOWS = [
    (T0, T0 + 2 * DAY, 3600),
    (T0 + 0.5 * DAY + 17.5, T0 + 1.5 * DAY - 3.25, 900),
    (T0 + 3600, T0 + 7200, 60),
    (T0 - DAY, T0 + 3 * DAY, 86400),
]


@pytest.mark.parametrize(("since", "until", "bucket"), WINDOWS)
def test_when_a_window_is_counted_then_every_figure_is_the_records_own(
    engine: Engine, since: float, until: float, bucket: int
) -> None:
    records = inside(since, until)

    figures = window_stats(engine, at(since), at(until), bucket=bucket, top=3)

    assert figures.total == len(records)
    assert dict(figures.decisions) == Counter(r.decision or NO_DECISION for r in records)
    assert list(figures.models) == ranked(Counter(r.model or NONE for r in records), 3)
    assert list(figures.users) == ranked(Counter(r.subject or NONE for r in records), 3)
    found: Counter[str] = Counter()
    holding: Counter[str] = Counter()
    for r in records:
        found.update(r.findings)
        holding.update(r.findings.keys())
    assert [(t.type, t.found, t.requests) for t in figures.types] == [
        (name, n, holding[name]) for name, n in ranked(found, 3)
    ]
    first = int(since) // bucket * bucket
    assert [b.start for b in figures.buckets] == list(range(first, math.ceil(until), bucket))
    per_bucket: dict[int, Counter[str]] = {}
    for r in records:
        start = first + (int(r.started_at) - first) // bucket * bucket
        per_bucket.setdefault(start, Counter())[r.decision or NO_DECISION] += 1
    assert {b.start: dict(b.decisions) for b in figures.buckets if b.decisions} == per_bucket
    assert sum(sum(b.decisions.values()) for b in figures.buckets) == len(records)


def test_when_the_window_holds_nothing_then_every_figure_is_zero_and_the_buckets_are_there(engine: Engine) -> None:
    figures = window_stats(engine, at(T0 + 10 * DAY), at(T0 + 11 * DAY), bucket=3600)

    assert figures.total == 0
    assert figures.first_record_at is not None
    assert figures.first_record_at.timestamp() == pytest.approx(min(r.started_at for r in TRAIL), abs=1e-3)
    assert dict(figures.decisions) == {}
    assert figures.types == ()
    assert figures.models == figures.users == ()
    assert len(figures.buckets) == 24
    assert all(not b.decisions for b in figures.buckets)


@pytest.mark.parametrize(
    ("since", "until", "bucket", "starts"),
    [
        (0.0, 7200.0, 3600, [0, 3600]),
        (10.0, 7200.5, 3600, [0, 3600, 7200]),
        (3599.0, 3601.0, 3600, [0, 3600]),
        (120.0, 180.0, 60, [120]),
    ],
)
def test_when_buckets_are_cut_then_they_align_on_their_length_and_cover_the_window(
    since: float, until: float, bucket: int, starts: list[int]
) -> None:
    assert bucket_starts(at(since), at(until), bucket) == starts


async def test_when_the_trail_is_empty_then_it_has_no_first_record(trail_url: str) -> None:
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    try:
        figures = window_stats(store.engine, at(T0), at(T0 + DAY), bucket=3600)
    finally:
        await store.close()

    assert figures.total == 0
    assert figures.first_record_at is None


async def test_when_records_are_past_2038_then_they_still_fall_in_their_bucket(trail_url: str) -> None:
    later = 2_200_000_000.5  # 2039: past a 32-bit count of seconds
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    try:
        store.record(replace(trail_record(0), started_at=later, decision="allow"))
        await store.flush()
        figures = window_stats(store.engine, at(later - 3600), at(later + 3600), bucket=3600)
    finally:
        await store.close()

    holding = [b for b in figures.buckets if b.decisions]
    assert [(b.start, dict(b.decisions)) for b in holding] == [(int(later) // 3600 * 3600, {"allow": 1})]
