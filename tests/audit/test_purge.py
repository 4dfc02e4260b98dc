"""Retention purges, on SQLite and PostgreSQL, with a controllable clock: records purged by level and age under a
signed tombstone checkpoint, a dry run that changes nothing, and verify clean after a purge but not after a deletion
dressed up as one."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, delete, insert, select, text, update

from clearance.audit.checkpoint import Checkpoint
from clearance.audit.checkpointer import Checkpointer, IntegrityConfig
from clearance.audit.export import DirectoryExport
from clearance.audit.note import open_note
from clearance.audit.purge import (
    ADVISORY_LOCK_KEY,
    PURGE_EXTENSION,
    PurgedLeaf,
    Purger,
    purge_digest,
    purge_extension,
    purge_file_name,
)
from clearance.audit.retention import RetentionConfig
from clearance.audit.store import SqlAuditStore
from clearance.audit.verify import VerifyReport, load_checkpoints, read_trail, verify
from clearance.db.tables import audit_leaves, audit_purges, audit_records, audit_tombstones
from clearance.exceptions import ConfigError
from clearance.secretref import SecretRef
from clearance.tasks import TaskSet
from tests.audit.conftest import ORIGIN, make_signer, trail_record

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

RETENTION = RetentionConfig.model_validate(
    {
        "levels": {
            "public": "30d",
            "internal": {"after": "90d", "keep_metadata": True},
            "restricted": "365d",
            "default": "180d",
        }
    }
)

# request number: (level, age in days, with text)
TRAIL: dict[int, tuple[str | None, int, bool]] = {
    0: ("public", 40, True),  # due: deleted
    1: ("public", 10, True),  # kept
    2: ("internal", 100, True),  # due: text purged
    3: ("internal", 10, True),  # kept
    4: ("restricted", 400, False),  # due: deleted
    5: (None, 200, False),  # default, due: deleted
    6: ("secret", 100, True),  # default, kept (100 < 180 days)
    7: ("internal", 120, False),  # due under keep_metadata, but holds no text: nothing to purge
}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _trail(url: str, directory: Path) -> SqlAuditStore:
    """The records of ``TRAIL``, and a plain checkpoint of all of them; the store left open."""
    store = SqlAuditStore(url, linger_s=0, max_batch=3)
    await store.start()
    for i, (level, age, with_text) in TRAIL.items():
        started = (NOW - timedelta(days=age)).timestamp()
        record = dataclasses.replace(
            trail_record(i),
            started_at=started,
            level=level,
            request_text='{"messages":"[EMAIL_ADDRESS]"}' if with_text else None,
            response_text='{"content":"ok"}' if with_text else None,
        )
        store.record(record)
    await store.flush()
    Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(directory)]).checkpoint()
    return store


def _purger(engine: Engine, directory: Path, clock: Clock, retention: RetentionConfig = RETENTION) -> Purger:
    return Purger(engine, retention, make_signer(), origin=ORIGIN, exports=[DirectoryExport(directory)], now=clock)


def _rows(engine: Engine) -> dict[str, dict[str, Any]]:
    with engine.connect() as c:
        return {r.request_id: dict(r._mapping) for r in c.execute(select(audit_records))}


def _verify(engine: Engine, directory: Path) -> VerifyReport:
    trail = read_trail(engine)
    saved, bad = load_checkpoints(directory, trail.notes, [make_signer().verifier()], origin=ORIGIN)
    assert bad == []
    return verify(trail, saved)


def _found(report: VerifyReport) -> list[tuple[str, str | None]]:
    return sorted((f.kind, f.request_id) for f in report.findings)


async def test_when_records_are_past_their_levels_retention_then_they_are_purged_by_level_and_age(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    before = _rows(store.engine)

    result = _purger(store.engine, tmp_path, Clock(NOW)).purge()

    after = _rows(store.engine)
    await store.close()
    assert sorted(after) == ["req-1", "req-2", "req-3", "req-6", "req-7"]
    assert (result.deleted, result.text_purged, result.refused, result.busy) == (3, 1, (), False)
    assert result.by_rule == {"public": 1, "internal": 1, "restricted": 1, "default": 1}
    assert (after["req-2"]["request_text"], after["req-2"]["response_text"]) == (None, None)
    kept = {k: v for k, v in before["req-2"].items() if k not in ("request_text", "response_text")}
    assert {k: v for k, v in after["req-2"].items() if k in kept} == kept
    assert after["req-3"]["request_text"] == before["req-3"]["request_text"]
    assert after["req-6"] == before["req-6"]


async def test_when_it_is_a_dry_run_then_nothing_changes_and_it_counts_what_the_purge_then_does(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    before = _rows(store.engine)
    purger = _purger(store.engine, tmp_path, Clock(NOW))

    dry = _purger(store.engine, tmp_path, Clock(NOW), RETENTION.model_copy(update={"batch": 1})).purge(dry_run=True)

    assert _rows(store.engine) == before
    with store.engine.connect() as c:
        assert c.execute(select(audit_tombstones)).first() is None
        assert c.execute(select(audit_purges)).first() is None
    assert sorted(p.name for p in tmp_path.glob("*.checkpoint")) == ["00000000000000000008.checkpoint"]
    done = purger.purge()
    await store.close()
    assert dry.dry_run and not done.dry_run
    assert (dry.deleted, dry.text_purged, dry.by_rule) == (done.deleted, done.text_purged, done.by_rule)


async def test_when_a_purge_ran_then_verify_is_clean_and_lists_the_records_purged(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    retention = RETENTION.model_copy(update={"batch": 2})  # two signed purges

    result = _purger(store.engine, tmp_path, Clock(NOW), retention).purge()

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert len(result.purges) == 2
    assert report.findings == ()
    assert sorted((p.kind, p.request_id) for p in report.purged) == [
        ("purged", "req-0"),
        ("purged", "req-4"),
        ("purged", "req-5"),
        ("text_purged", "req-2"),
    ]
    names = sorted(p.name for p in tmp_path.glob("*.checkpoint"))
    assert names == sorted(["00000000000000000008.checkpoint", *(purge_file_name(8, i) for i in result.purges)])
    assert [(s.size, s.root_matches) for s in report.checkpoints] == [(8, True)] * 3


async def test_when_the_clock_moves_on_then_the_records_that_became_due_are_purged_next(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    clock = Clock(NOW)
    purger = _purger(store.engine, tmp_path, clock)
    purger.purge()

    assert purger.purge().purged == 0  # nothing newly due: nothing signed
    clock.now = NOW + timedelta(days=25)  # req-1 (public) is now 35 days old
    again = purger.purge()

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert (again.deleted, again.text_purged, again.by_rule) == (1, 0, {"public": 1})
    assert "req-1" not in _rows_after(trail_url)
    assert report.findings == ()
    assert len(report.purged) == 5


def _rows_after(url: str) -> dict[str, dict[str, Any]]:
    engine = create_engine(url)
    try:
        return _rows(engine)
    finally:
        engine.dispose()


async def test_when_a_purge_checkpoint_is_read_then_it_signs_the_tree_and_names_the_purged_leaves(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    result = _purger(store.engine, tmp_path, Clock(NOW)).purge()

    with store.engine.connect() as c:
        tombstones = list(c.execute(select(audit_tombstones).order_by(audit_tombstones.c.leaf_index)))
        leaves = {r.leaf_index: bytes(r.leaf_hash) for r in c.execute(select(audit_leaves))}
    await store.close()
    note = (tmp_path / purge_file_name(8, result.purges[0])).read_text()
    checkpoint = Checkpoint.parse(open_note(note, [make_signer().verifier()]).text)
    purged = [PurgedLeaf(t.leaf_index, bytes(t.leaf_hash), t.kept_hash and bytes(t.kept_hash)) for t in tombstones]
    assert checkpoint.size == 8
    assert checkpoint.extensions == (f"{PURGE_EXTENSION} 4 {purge_digest(purged)}",)
    assert [(t.request_id, t.rule, t.kept_hash is None) for t in tombstones] == [
        ("req-0", "public", True),
        ("req-2", "internal", False),
        ("req-4", "restricted", True),
        ("req-5", "default", True),
    ]
    assert all(bytes(t.leaf_hash) == leaves[t.leaf_index] for t in tombstones)


async def test_when_a_row_is_deleted_under_a_tombstone_written_without_the_key_then_verify_reports_both(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    _purger(store.engine, tmp_path, Clock(NOW)).purge()
    with store.engine.begin() as c:  # what the database's operator can do: delete req-3 and say it was a purge
        leaf = c.execute(select(audit_leaves).where(audit_leaves.c.request_id == "req-3")).one()
        c.execute(delete(audit_records).where(audit_records.c.id == leaf.record_id))
        c.execute(
            insert(audit_tombstones).values(
                leaf_index=leaf.leaf_index, record_id=leaf.record_id, request_id="req-3", leaf_hash=leaf.leaf_hash,
                kept_hash=None, purged_at=NOW, rule="internal", purge_id=999,
            )
        )  # fmt: skip

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert _found(report) == [("deleted", "req-3"), ("unsanctioned_purge", "req-3")]
    assert len(report.purged) == 4  # the sanctioned purge still reads as one


async def test_when_a_tombstone_is_slipped_into_a_signed_purge_then_that_purge_is_no_longer_sanctioned(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    _purger(store.engine, tmp_path, Clock(NOW)).purge()
    with store.engine.begin() as c:
        purge_id = c.execute(select(audit_tombstones.c.purge_id)).scalars().first()
        leaf = c.execute(select(audit_leaves).where(audit_leaves.c.request_id == "req-6")).one()
        c.execute(delete(audit_records).where(audit_records.c.id == leaf.record_id))
        c.execute(
            insert(audit_tombstones).values(
                leaf_index=leaf.leaf_index, record_id=leaf.record_id, request_id="req-6", leaf_hash=leaf.leaf_hash,
                kept_hash=None, purged_at=NOW, rule="default", purge_id=purge_id,
            )
        )  # fmt: skip

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert ("deleted", "req-6") in _found(report)
    unsanctioned = sorted(f.request_id or "" for f in report.findings if f.kind == "unsanctioned_purge")
    assert unsanctioned == ["req-0", "req-2", "req-4", "req-5", "req-6"]
    assert ("deleted", "req-0") in _found(report)  # no longer excused
    assert ("modified", "req-2") in _found(report)


async def test_when_a_record_kept_without_its_text_is_changed_afterwards_then_it_is_reported_modified(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    _purger(store.engine, tmp_path, Clock(NOW)).purge()
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-2").values(decision="allow"))

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert _found(report) == [("modified", "req-2")]


async def test_when_a_record_kept_without_its_text_is_then_deleted_then_it_is_reported_deleted(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    _purger(store.engine, tmp_path, Clock(NOW)).purge()
    with store.engine.begin() as c:
        c.execute(delete(audit_records).where(audit_records.c.request_id == "req-2"))

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert _found(report) == [("deleted", "req-2")]


async def test_when_a_due_record_no_longer_matches_its_leaf_then_the_purge_leaves_it_for_verify(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-0").values(status=500))

    result = _purger(store.engine, tmp_path, Clock(NOW)).purge()

    report = _verify(store.engine, tmp_path)
    await store.close()
    assert result.refused == ("req-0",)
    assert result.deleted == 2
    assert _found(report) == [("modified", "req-0")]


@pytest.mark.postgres
async def test_when_another_instance_holds_the_purge_lock_then_this_one_skips_and_changes_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    store = await _trail(postgres_url, tmp_path)
    before = _rows(store.engine)
    other = create_engine(postgres_url)
    with other.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        try:
            result = _purger(store.engine, tmp_path, Clock(NOW)).purge()
        finally:
            holder.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
    other.dispose()

    assert result.busy
    assert result.purged == 0
    assert _rows(store.engine) == before
    after = _purger(store.engine, tmp_path, Clock(NOW)).purge()
    await store.close()
    assert (after.busy, after.purged) == (False, 4)


def test_when_the_extension_is_made_then_it_depends_on_every_leaf_and_not_on_their_order() -> None:
    a = PurgedLeaf(3, bytes(32), None)
    b = PurgedLeaf(5, bytes([1]) * 32, bytes([2]) * 32)

    assert purge_extension([a, b]) == purge_extension([b, a])
    assert purge_extension([a, b]).startswith(f"{PURGE_EXTENSION} 2 ")
    assert purge_extension([a]) != purge_extension([a, b])
    assert purge_extension([a, b]) != purge_extension([a, PurgedLeaf(5, bytes([1]) * 32, None)])


def test_when_retention_is_set_without_a_signing_key_then_no_purger_is_made(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")

    with pytest.raises(ConfigError, match="signing_key"):
        Purger.from_config(engine, RETENTION, IntegrityConfig())
    assert Purger.from_config(engine, RetentionConfig(), IntegrityConfig()) is None
    engine.dispose()


async def test_when_the_store_is_configured_with_retention_then_it_runs_a_purger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARANCE_TEST_AUDIT_KEY", make_signer().secret_key_string())
    integrity = IntegrityConfig(signing_key=SecretRef(env="CLEARANCE_TEST_AUDIT_KEY"))
    with_rules = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", integrity=integrity, retention=RETENTION)
    without = SqlAuditStore(f"sqlite:///{tmp_path / 'b.db'}", integrity=integrity)

    await with_rules.start()
    await without.start()

    assert with_rules.purger is not None
    assert without.purger is None
    await with_rules.close()
    await without.close()


async def test_when_the_background_task_runs_then_it_purges_once_per_interval(tmp_path: Path) -> None:
    store = await _trail(f"sqlite:///{tmp_path / 'trail.db'}", tmp_path)
    waits: list[float] = []
    second_wait = asyncio.Event()

    async def sleep(seconds: float) -> None:  # the first interval passes at once; the second never ends
        waits.append(seconds)
        if len(waits) > 1:
            second_wait.set()
            await asyncio.Event().wait()

    retention = RETENTION.model_copy(update={"interval": 123.0})
    purger = Purger(store.engine, retention, make_signer(), origin=ORIGIN, now=Clock(NOW), sleep=sleep)
    tasks = TaskSet()
    _ = tasks.spawn(purger.run(), name="audit-purge")
    async with asyncio.timeout(10):
        await second_wait.wait()
    await tasks.cancel_all()

    assert waits == [123.0, 123.0]
    assert sorted(_rows(store.engine)) == ["req-1", "req-2", "req-3", "req-6", "req-7"]
    await store.close()
