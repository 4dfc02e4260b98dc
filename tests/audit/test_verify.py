"""Verification finds, by request id, each way of tampering with the trail in the database: on SQLite and on
PostgreSQL, records written through the real store, checkpoints signed and exported, then the database changed
directly, as its operator could."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update

from clearance.audit.checkpoint import Checkpoint, sign_checkpoint
from clearance.audit.checkpointer import Checkpointer
from clearance.audit.export import DirectoryExport
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.merkle import MerkleFrontier, leaf_hash
from clearance.audit.purge import PurgedLeaf, purge_extension
from clearance.audit.store import SqlAuditStore, _row
from clearance.audit.verify import (
    RecordIntegrity,
    RecordVerifier,
    SavedCheckpoint,
    StoredLeaf,
    StoredRecord,
    StoredTombstone,
    Trail,
    VerifiedLeaves,
    VerifyReport,
    load_checkpoints,
    read_trail,
    verify,
    verify_record,
)
from clearance.db.tables import audit_checkpoints, audit_leaves, audit_purges, audit_records, audit_tree_head
from tests.audit import test_purge as purging
from tests.audit.conftest import ORIGIN, make_signer, trail_record


async def _write(store: SqlAuditStore, numbers: range) -> None:
    for i in numbers:
        store.record(trail_record(i))
    await store.flush()


async def _trail(url: str, directory: Path) -> SqlAuditStore:
    """8 records, checkpoints at 5 and 8 exported to ``directory``; the store is left open for tampering."""
    store = SqlAuditStore(url, linger_s=0, max_batch=3)
    await store.start()
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(directory)])
    await _write(store, range(5))
    assert checkpointer.checkpoint() is not None
    await _write(store, range(5, 8))
    assert checkpointer.checkpoint() is not None
    return store


def _verify(engine: Engine, directory: Path) -> VerifyReport:
    trail = read_trail(engine)
    saved, bad = load_checkpoints(directory, trail.notes, [make_signer().verifier()], origin=ORIGIN)
    assert bad == []
    return verify(trail, saved)


def _found(report: VerifyReport) -> list[tuple[str, str | None]]:
    return [(f.kind, f.request_id) for f in report.findings]


def _record_id(engine: Engine, request_id: str) -> int:
    with engine.connect() as c:
        return int(c.execute(select(audit_records.c.id).where(audit_records.c.request_id == request_id)).scalar_one())


def _rewrite_tree(engine: Engine) -> None:
    """What someone without the key can do: recompute every leaf and the head from the rows as they are now."""
    with engine.begin() as c:
        rows = [dict(r._mapping) for r in c.execute(select(audit_records).order_by(audit_records.c.id))]
        c.execute(delete(audit_leaves))
        leaves = [
            {"leaf_index": i, "record_id": r["id"], "request_id": r["request_id"], "leaf_hash": record_leaf_hash(r)}
            for i, r in enumerate(rows)
        ]
        c.execute(insert(audit_leaves), leaves)
        frontier = MerkleFrontier.of([leaf["leaf_hash"] for leaf in leaves])
        c.execute(update(audit_tree_head).values(size=frontier.size, nodes=b"".join(frontier.nodes)))


async def test_when_nobody_tampered_then_every_checkpoint_matches_and_nothing_is_found(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    report = _verify(store.engine, tmp_path)
    await store.close()

    assert report.findings == ()
    assert (report.records, report.leaves) == (8, 8)
    assert [(s.size, s.root_matches, s.extends_previous) for s in report.checkpoints] == [
        (5, True, None),
        (8, True, True),
    ]
    assert sorted(p.name for p in tmp_path.glob("*.checkpoint")) == [
        "00000000000000000005.checkpoint",
        "00000000000000000008.checkpoint",
    ]


async def test_when_a_row_is_updated_then_it_is_reported_modified(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-2").values(status=500))

    assert _found(_verify(store.engine, tmp_path)) == [("modified", "req-2")]
    await store.close()


async def test_when_a_row_is_deleted_then_it_is_reported_deleted(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(delete(audit_records).where(audit_records.c.request_id == "req-3"))

    assert _found(_verify(store.engine, tmp_path)) == [("deleted", "req-3")]
    await store.close()


async def test_when_a_row_is_inserted_around_the_gateway_then_it_is_reported_inserted(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(insert(audit_records), [_row(trail_record(99))])

    assert _found(_verify(store.engine, tmp_path)) == [("inserted", "req-99")]
    await store.close()


async def test_when_two_leaves_are_swapped_then_both_are_reported_reordered(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        leaves = {
            r.leaf_index: dict(r._mapping)
            for r in c.execute(select(audit_leaves).where(audit_leaves.c.leaf_index.in_([1, 2])))
        }
        c.execute(delete(audit_leaves).where(audit_leaves.c.leaf_index.in_([1, 2])))
        c.execute(insert(audit_leaves), [{**leaves[2], "leaf_index": 1}, {**leaves[1], "leaf_index": 2}])

    assert _found(_verify(store.engine, tmp_path)) == [("reordered", "req-2"), ("reordered", "req-1")]
    await store.close()


async def test_when_the_tail_after_a_checkpoint_is_cut_then_it_is_reported_after_the_last_record_left(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    cut = [_record_id(store.engine, f"req-{i}") for i in (6, 7)]
    with store.engine.begin() as c:  # rows, leaves, the database's checkpoint and the head: a careful cut
        c.execute(delete(audit_records).where(audit_records.c.id.in_(cut)))
        c.execute(delete(audit_leaves).where(audit_leaves.c.record_id.in_(cut)))
        c.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size == 8))
    _rewrite_tree(store.engine)

    report = _verify(store.engine, tmp_path)

    assert _found(report) == [("tail_cut", "req-5")]
    assert (report.findings[0].leaf_index, report.findings[0].last_leaf_index) == (6, 7)
    await store.close()


async def test_when_the_tree_is_rebuilt_to_hide_a_change_then_the_range_holding_it_is_reported(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-6").values(subject="someone-else"))
    _rewrite_tree(store.engine)

    report = _verify(store.engine, tmp_path)

    assert _found(report) == [("rebuilt", "req-5")]
    assert (report.findings[0].leaf_index, report.findings[0].last_leaf_index) == (5, 7)  # after the good checkpoint
    assert [(s.size, s.root_matches) for s in report.checkpoints] == [(5, True), (8, False)]
    await store.close()


async def test_when_a_saved_checkpoint_is_signed_by_another_key_then_it_is_a_finding(tmp_path: Path) -> None:
    store = await _trail(f"sqlite:///{tmp_path / 'trail.db'}", tmp_path / "saved")
    forged = Checkpointer(store.engine, make_signer(seed=9), origin=ORIGIN, exports=[DirectoryExport(tmp_path)])
    await _write(store, range(8, 9))
    assert forged.checkpoint() is not None
    trail = read_trail(store.engine)
    await store.close()

    saved, bad = load_checkpoints(tmp_path, [], [make_signer().verifier()], origin=ORIGIN)

    assert saved == []
    assert [(f.kind, f.detail.split(":")[0]) for f in bad] == [("bad_checkpoint", "00000000000000000009.checkpoint")]
    assert trail.head_size == 9


async def test_when_two_instances_write_one_postgresql_trail_at_once_then_it_is_one_consistent_tree(
    postgres_url: str, tmp_path: Path
) -> None:
    first = SqlAuditStore(postgres_url, linger_s=0, max_batch=4)
    second = SqlAuditStore(postgres_url, linger_s=0, max_batch=4)
    await first.start()
    await second.start()
    checkpointer = Checkpointer(first.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(tmp_path)])

    await asyncio.gather(_write(first, range(0, 60)), _write(second, range(100, 160)))
    assert checkpointer.checkpoint() is not None
    await asyncio.gather(_write(first, range(60, 80)), _write(second, range(160, 180)))
    assert checkpointer.checkpoint() is not None
    report = _verify(first.engine, tmp_path)
    await first.close()
    await second.close()

    assert report.findings == ()
    assert report.leaves == 160
    assert [(s.size, s.root_matches, s.extends_previous) for s in report.checkpoints] == [
        (120, True, None),
        (160, True, True),
    ]


def _leaf(index: int, record_id: int) -> StoredLeaf:
    return StoredLeaf(index, record_id, f"req-{record_id}", leaf_hash(bytes([record_id])))


def _pure_trail(leaves: list[StoredLeaf], *, head_size: int | None = None) -> Trail:
    records = tuple(StoredRecord(leaf.record_id, leaf.request_id, leaf.leaf_hash) for leaf in leaves)
    frontier = MerkleFrontier.of([leaf.leaf_hash for leaf in leaves])
    size = frontier.size if head_size is None else head_size
    return Trail(records, tuple(leaves), size, frontier.root(), 0, ())


def test_when_a_middle_leaf_and_its_record_vanish_then_the_gap_is_deleted_and_later_roots_unverifiable() -> None:
    leaves = [_leaf(i, i + 1) for i in range(4)]
    signed = SavedCheckpoint("cp-4", Checkpoint(ORIGIN, 4, MerkleFrontier.of([x.leaf_hash for x in leaves]).root()))
    trail = _pure_trail(leaves)
    trail = Trail(
        tuple(r for r in trail.records if r.record_id != 2),
        tuple(x for x in leaves if x.leaf_index != 1),
        4,
        trail.head_root,
        0,
        (),
    )

    report = verify(trail, [signed])

    assert [(f.kind, f.leaf_index) for f in report.findings] == [("deleted", 1)]
    assert [(s.size, s.root_matches) for s in report.checkpoints] == [(4, None)]


def test_when_the_head_disagrees_with_the_leaves_then_it_is_a_finding() -> None:
    report = verify(_pure_trail([_leaf(0, 1), _leaf(1, 2)], head_size=5), [])

    assert [f.kind for f in report.findings] == ["head"]


def test_when_a_checkpoint_is_of_another_log_then_it_is_a_bad_checkpoint(tmp_path: Path) -> None:
    note = sign_checkpoint(Checkpoint("other.test/log", 1, bytes(32)), [make_signer()])

    saved, bad = load_checkpoints(None, [(1, note)], [make_signer().verifier()], origin=ORIGIN)

    assert saved == []
    assert [f.kind for f in bad] == ["bad_checkpoint"]
    assert "other.test/log" in bad[0].detail


def test_when_a_saved_checkpoint_file_is_not_utf8_then_it_is_a_bad_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "00000000000000000001.checkpoint").write_bytes(b"\xff\xfe")

    saved, bad = load_checkpoints(tmp_path, [], [make_signer().verifier()])

    assert saved == []
    assert [(f.kind, "UTF-8" in f.detail) for f in bad] == [("bad_checkpoint", True)]


def _purged_trail(tombstone: StoredTombstone) -> tuple[Trail, Checkpoint]:
    """Four leaves, record 2 gone under ``tombstone``; and the checkpoint of the tree with no extension."""
    leaves = [_leaf(i, i + 1) for i in range(4)]
    trail = _pure_trail(leaves)
    trail = Trail(
        tuple(r for r in trail.records if r.record_id != 2), trail.leaves, 4, trail.head_root, 0, (), (tombstone,)
    )
    return trail, Checkpoint(ORIGIN, 4, trail.head_root)


def test_when_a_tombstone_matches_a_signed_purge_line_then_its_record_reads_purged_and_is_no_finding() -> None:
    tombstone = StoredTombstone(1, 2, "req-2", leaf_hash(bytes([2])), None, 1)
    trail, plain = _purged_trail(tombstone)
    line = purge_extension([PurgedLeaf(1, tombstone.leaf_hash, None)])
    purge = Checkpoint(ORIGIN, 4, plain.root_hash, (line,))

    report = verify(trail, [SavedCheckpoint("cp-4", plain), SavedCheckpoint("purge-1", purge)])

    assert report.findings == ()
    assert [(p.kind, p.request_id) for p in report.purged] == [("purged", "req-2")]
    assert [(s.size, s.root_matches, s.extends_previous) for s in report.checkpoints] == [
        (4, True, None),
        (4, True, True),
    ]


def test_when_a_signed_purge_line_names_another_leaf_hash_than_the_trees_then_the_tombstone_is_unsanctioned() -> None:
    forged = StoredTombstone(1, 2, "req-2", leaf_hash(b"something else"), None, 1)
    trail, plain = _purged_trail(forged)
    line = purge_extension([PurgedLeaf(1, forged.leaf_hash, None)])

    report = verify(trail, [SavedCheckpoint("purge-1", Checkpoint(ORIGIN, 4, plain.root_hash, (line,)))])

    assert sorted((f.kind, f.request_id) for f in report.findings) == [
        ("deleted", "req-2"),
        ("unsanctioned_purge", "req-2"),
    ]
    assert report.purged == ()


def test_when_no_signed_checkpoint_carries_the_purge_line_then_the_tombstone_is_unsanctioned() -> None:
    trail, plain = _purged_trail(StoredTombstone(1, 2, "req-2", leaf_hash(bytes([2])), None, 1))

    report = verify(trail, [SavedCheckpoint("cp-4", plain)])

    assert sorted((f.kind, f.request_id) for f in report.findings) == [
        ("deleted", "req-2"),
        ("unsanctioned_purge", "req-2"),
    ]


def _record_verifier(seed: int = 7) -> RecordVerifier:
    return RecordVerifier((make_signer(seed).verifier(),), ORIGIN)


def _check(engine: Engine, request_id: str, verified: VerifiedLeaves, seed: int = 7) -> RecordIntegrity:
    return verify_record(engine, _record_id(engine, request_id), _record_verifier(seed), verified)


async def test_when_a_record_is_under_a_checkpoint_then_it_verifies_up_to_the_newest_that_covers_it(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    verified = VerifiedLeaves()

    first = _check(store.engine, "req-2", verified)
    again = _check(store.engine, "req-6", verified)  # from the digests kept by the first check
    await store.close()

    assert first == RecordIntegrity("verified", "integrity verified up to checkpoint 8", 2, 5, 8)
    assert (again.state, again.leaf_index, again.first_checkpoint, again.checkpoint) == ("verified", 6, 8, 8)


async def test_when_a_leaf_is_tampered_then_the_record_check_says_what_failed(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-2").values(status=500))
    _rewrite_tree(store.engine)  # the leaf matches the changed row again: only the signed root shows it

    tampered = _check(store.engine, "req-2", VerifiedLeaves())
    await store.close()

    assert tampered.state == "failed"
    assert "no longer give checkpoint 8's root" in tampered.detail


async def test_when_a_leaf_is_tampered_after_a_check_then_the_kept_digests_still_show_it(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    verified = VerifiedLeaves()
    assert _check(store.engine, "req-1", verified).state == "verified"
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-3").values(status=500))
    _rewrite_tree(store.engine)

    tampered = _check(store.engine, "req-3", verified)
    await store.close()

    assert (tampered.state, tampered.detail) == ("failed", "leaves 0..7 changed since checkpoint 8 was verified")


async def test_when_a_row_changed_then_its_record_check_fails(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-4").values(model="other"))

    changed = _check(store.engine, "req-4", VerifiedLeaves())
    await store.close()

    assert (changed.state, changed.leaf_index) == ("failed", 4)
    assert "no longer hashes to leaf 4" in changed.detail


async def test_when_no_checkpoint_covers_a_record_yet_then_it_is_not_checkpointed(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)
    await _write(store, range(8, 10))

    fresh = _check(store.engine, "req-9", VerifiedLeaves())
    await store.close()

    assert (fresh.state, fresh.leaf_index, fresh.checkpoint) == ("not_checkpointed", 9, None)


async def test_when_the_checkpoint_was_signed_by_another_key_or_there_is_no_key_then_it_says_so(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _trail(trail_url, tmp_path)

    stranger = _check(store.engine, "req-1", VerifiedLeaves(), seed=8)
    off = verify_record(store.engine, _record_id(store.engine, "req-1"), None, VerifiedLeaves())
    await store.close()

    assert stranger.state == "failed"
    assert "database checkpoint 8" in stranger.detail
    assert off.state == "off"


async def test_when_a_record_is_in_no_leaf_then_its_check_fails(trail_url: str, tmp_path: Path) -> None:
    store = await _trail(trail_url, tmp_path)
    with store.engine.begin() as c:
        c.execute(delete(audit_leaves).where(audit_leaves.c.request_id == "req-7"))

    orphan = _check(store.engine, "req-7", VerifiedLeaves())
    await store.close()

    assert (orphan.state, orphan.leaf_index) == ("failed", None)
    assert "in no leaf" in orphan.detail


async def test_when_a_records_text_was_purged_under_a_signed_purge_then_its_story_still_verifies(
    trail_url: str, tmp_path: Path
) -> None:
    store = await purging._trail(trail_url, tmp_path)
    purging._purger(store.engine, tmp_path, purging.Clock(purging.NOW)).purge()
    record_id = _record_id(store.engine, "req-2")
    verifier = RecordVerifier((make_signer().verifier(),), ORIGIN)

    kept = verify_record(store.engine, record_id, verifier, VerifiedLeaves())
    with store.engine.begin() as c:  # now the purge's tombstones are changed without the key
        c.execute(update(audit_purges).values(note="not signed"))
    unsanctioned = verify_record(store.engine, record_id, verifier, VerifiedLeaves())
    await store.close()

    assert (kept.state, kept.leaf_index) == ("verified", 2)
    assert unsanctioned.state == "failed"
