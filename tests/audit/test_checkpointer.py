"""Checkpoints are signed when the tree grew, stored once, exported, and an export that failed is retried."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from pydantic import HttpUrl, ValidationError
from sqlalchemy import delete, select, update

from clearance.audit.checkpoint import Checkpoint, open_checkpoint
from clearance.audit.checkpointer import Checkpointer, CheckpointExportConfig, HttpExportConfig, IntegrityConfig
from clearance.audit.merkle import MerkleFrontier
from clearance.audit.store import SqlAuditStore
from clearance.audit.tree import append, lock_head
from clearance.db.engine import make_engine
from clearance.db.tables import audit_checkpoints, audit_leaves, audit_tree_head
from clearance.exceptions import ProofFailed
from clearance.secretref import SecretRef
from tests.audit.conftest import ORIGIN, make_signer, trail_record


class FlakyExport:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.written: list[int] = []

    def write(self, size: int, note: str) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("share unavailable")
        self.written.append(size)


async def test_when_the_tree_grew_then_one_checkpoint_is_signed_stored_and_exported(trail_url: str) -> None:
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    export = FlakyExport(failures=0)
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[export])
    assert checkpointer.checkpoint() is None  # an empty tree has nothing to sign
    for i in range(3):
        store.record(trail_record(i))
    await store.flush()

    taken = checkpointer.checkpoint()
    again = checkpointer.checkpoint()
    with store.engine.connect() as c:
        stored = c.execute(select(audit_checkpoints)).all()
    await store.close()

    assert taken is not None and taken.size == 3
    assert again is None
    assert export.written == [3]
    assert [row.size for row in stored] == [3]
    assert open_checkpoint(stored[0].note, [make_signer().verifier()], origin=ORIGIN) == taken


async def test_when_an_export_fails_then_the_next_tick_exports_it(tmp_path: Path) -> None:
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", linger_s=0)
    await store.start()
    export = FlakyExport(failures=1)
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[export])
    store.record(trail_record(0))
    await store.flush()

    assert checkpointer.checkpoint() is not None
    assert export.written == []
    assert checkpointer.checkpoint() is None  # nothing new to sign, but the pending export goes out
    await store.close()

    assert export.written == [1]


def test_when_no_key_is_configured_then_integrity_is_off_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}")
    with caplog.at_level(logging.WARNING, logger="clearance.audit"):
        assert Checkpointer.from_config(store.engine, IntegrityConfig()) is None
    store.engine.dispose()

    assert "audit integrity is off" in caplog.text


def test_when_a_key_file_is_configured_then_the_origin_defaults_to_the_key_name(tmp_path: Path) -> None:
    key = tmp_path / "signer.key"
    key.write_text(make_signer().secret_key_string())
    config = IntegrityConfig(
        signing_key=SecretRef(file=key),
        export=CheckpointExportConfig(
            directory=tmp_path / "cp",
            stdout=True,
            http=HttpExportConfig(url=HttpUrl("http://127.0.0.1:9/cp"), token=SecretRef(file=key)),
        ),
    )
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}")

    checkpointer = Checkpointer.from_config(store.engine, config)
    store.engine.dispose()

    assert checkpointer is not None
    assert checkpointer._origin == ORIGIN
    assert [type(e).__name__ for e in config.exports()] == ["DirectoryExport", "StreamExport", "HttpExport"]


async def test_when_the_tree_lost_leaves_since_a_checkpoint_then_it_is_not_signed_again(tmp_path: Path) -> None:
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", linger_s=0)
    await store.start()
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN)
    for i in range(3):
        store.record(trail_record(i))
    await store.flush()
    assert checkpointer.checkpoint() is not None
    with store.engine.begin() as c:  # the operator cuts the tail, the head and the database's checkpoint
        c.execute(delete(audit_leaves).where(audit_leaves.c.leaf_index == 2))
        c.execute(delete(audit_checkpoints))
        c.execute(update(audit_tree_head).values(size=2, nodes=MerkleFrontier.of([b"\0" * 32] * 2).nodes[0]))

    with pytest.raises(ProofFailed, match="checkpoint 3 was signed over a different tree"):
        checkpointer.checkpoint()
    await store.close()


def test_when_the_origin_spans_lines_then_the_configuration_is_refused() -> None:
    with pytest.raises(ValidationError, match="origin"):
        IntegrityConfig(origin="audit.test\nforged")


async def test_when_another_process_appends_then_the_checkpoint_waits_for_it_and_signs_the_grown_tree(
    trail_url: str,
) -> None:
    """The checkpointer reads the head under the append lock (several workers, several instances): a batch being
    written elsewhere is either wholly before its checkpoint or wholly after it, never read half-way."""
    store = SqlAuditStore(trail_url, linger_s=0)
    await store.start()
    store.record(trail_record(0))
    await store.flush()
    checkpointer = Checkpointer(store.engine, make_signer(), origin=ORIGIN)
    other = make_engine(trail_url)  # the other writer: its own connection, as another process would have
    taken: list[Checkpoint | None] = []
    try:
        with other.connect() as held:
            transaction = held.begin()
            head = lock_head(held)
            append(held, head, [(1000, "req-elsewhere", b"\x01" * 32)])
            signer = threading.Thread(target=lambda: taken.append(checkpointer.checkpoint()))
            signer.start()
            signer.join(0.5)
            assert signer.is_alive()  # waiting for the append lock, not signing the tree it would have read
            transaction.commit()
        signer.join(30)
    finally:
        other.dispose()
        await store.close()
    assert [c.size if c else None for c in taken] == [2]
