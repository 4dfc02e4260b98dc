"""The SQL side of the originals, through the real store on SQLite and PostgreSQL: an envelope written with its
record, read back against the hash the row keeps, each reveal recorded, and an erasure that leaves the trail
verifiable (``clearance.audit.verify``)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update

from clearance.audit.checkpointer import Checkpointer
from clearance.audit.export import DirectoryExport
from clearance.audit.originals import open_originals, seal_originals
from clearance.audit.reveals import erase_originals, record_reveal, reveals_of, stored_originals
from clearance.audit.store import SqlAuditStore
from clearance.audit.verify import load_checkpoints, read_trail, verify
from clearance.db.tables import audit_originals, audit_records
from clearance.exceptions import DecryptionFailed, NotFound
from tests.audit.conftest import ORIGIN, make_signer, trail_record
from tests.audit.test_envelope import keyring

REQUEST = b'{"messages":[{"role":"user","content":"my SSN is 536-22-8714"}]}'


def _record_id(engine: Engine, request_id: str) -> int:
    with engine.connect() as c:
        return int(c.execute(select(audit_records.c.id).where(audit_records.c.request_id == request_id)).scalar_one())


async def _sealed_trail(url: str, directory: Path) -> SqlAuditStore:
    """Four records, the odd ones with sealed originals; a checkpoint after them, exported to ``directory``."""
    store = SqlAuditStore(url, linger_s=0, max_batch=3)
    await store.start()
    for i in range(4):
        entry = trail_record(i)
        if i % 2:
            sealed = seal_originals(REQUEST, b"{}", record_id=entry.request_id, keyring=keyring(), limit=4096)
            entry = replace(entry, originals=sealed.envelope, originals_sha256=sealed.sha256)
        store.record(entry)
    await store.flush()
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(directory)])
    assert checkpointer.checkpoint() is not None
    return store


def _findings(engine: Engine, directory: Path) -> list[tuple[str, str | None]]:
    trail = read_trail(engine)
    saved, bad = load_checkpoints(directory, trail.notes, [make_signer().verifier()], origin=ORIGIN)
    assert bad == []
    return [(f.kind, f.request_id) for f in verify(trail, saved).findings]


async def test_when_a_record_keeps_originals_then_its_envelope_is_stored_apart_and_opens(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _sealed_trail(trail_url, tmp_path)
    try:
        stored = stored_originals(store.engine, _record_id(store.engine, "req-1"))
        with store.engine.connect() as c:
            row = c.execute(select(audit_records).where(audit_records.c.request_id == "req-1")).one()
            count = len(c.execute(select(audit_originals.c.record_id)).all())
    finally:
        await store.close()

    assert count == 2
    assert (stored.request_id, stored.kek_id) == ("req-1", "k2026")
    assert row.originals_sha256 is not None and len(row.originals_sha256) == 64
    assert open_originals(stored.envelope, record_id="req-1", keyring=keyring()).request == REQUEST.decode()


async def test_when_a_record_keeps_none_then_asking_for_them_is_not_found(tmp_path: Path) -> None:
    store = await _sealed_trail(f"sqlite:///{tmp_path / 'trail.db'}", tmp_path)
    try:
        with pytest.raises(NotFound) as none:
            stored_originals(store.engine, _record_id(store.engine, "req-0"))
        with pytest.raises(NotFound) as missing:
            stored_originals(store.engine, 10_000)
    finally:
        await store.close()

    assert (none.value.code, missing.value.code) == ("no_originals", "record_not_found")


async def test_when_originals_are_erased_then_they_are_gone_and_the_trail_still_verifies(
    trail_url: str, tmp_path: Path
) -> None:
    store = await _sealed_trail(trail_url, tmp_path)
    try:
        record_id = _record_id(store.engine, "req-3")
        assert _findings(store.engine, tmp_path) == []

        assert erase_originals(store.engine, record_id) is True
        assert erase_originals(store.engine, record_id) is False

        with pytest.raises(NotFound) as erased:
            stored_originals(store.engine, record_id)
        findings = _findings(store.engine, tmp_path)
    finally:
        await store.close()

    assert erased.value.code == "originals_erased"
    assert findings == []


async def test_when_the_hash_a_row_keeps_is_changed_then_it_is_modified_and_its_envelope_does_not_open(
    tmp_path: Path,
) -> None:
    store = await _sealed_trail(f"sqlite:///{tmp_path / 'trail.db'}", tmp_path)
    try:
        record_id = _record_id(store.engine, "req-1")
        with store.engine.begin() as c:
            c.execute(update(audit_records).where(audit_records.c.id == record_id).values(originals_sha256="0" * 64))
        with pytest.raises(DecryptionFailed):
            stored_originals(store.engine, record_id)
        findings = _findings(store.engine, tmp_path)
    finally:
        await store.close()

    assert findings == [("modified", "req-1")]


async def test_when_reveals_are_recorded_then_they_are_listed_oldest_first(tmp_path: Path) -> None:
    store = await _sealed_trail(f"sqlite:///{tmp_path / 'trail.db'}", tmp_path)
    first, second = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    try:
        record_id = _record_id(store.engine, "req-1")
        await asyncio.to_thread(
            record_reveal, store.engine, record_id, subject="audrey", email=None, reason="case 1", now=first
        )
        record_reveal(store.engine, record_id, subject="ava", email="ava@example.com", reason="case 2", now=second)
        found = reveals_of(store.engine, record_id)
        with pytest.raises(NotFound):
            reveals_of(store.engine, 10_000)
    finally:
        await store.close()

    assert [(r.subject, r.email, r.reason, r.revealed_at) for r in found] == [
        ("audrey", None, "case 1", first),
        ("ava", "ava@example.com", "case 2", second),
    ]
