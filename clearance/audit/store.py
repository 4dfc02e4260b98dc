"""The audit store: a contract and its SQL implementation, in the gateway's database (``clearance.db``).

Writes never sit on the request path: ``record()`` only queues. One owned writer task drains the queue in batches
on a worker thread, retrying a failed batch (never dropping it) until the store comes back, and ``close()`` waits
for everything queued to be written. Each batch's records become leaves of the audit tree in the same transaction
(``clearance.audit.tree``), and a record's sealed originals go to ``audit_originals`` in it too (the row keeps only
their hash: ``clearance.audit.originals``); with ``audit.integrity`` configured, a checkpointer signs the tree
periodically and at close (``clearance.audit.checkpointer``); with ``audit.retention``, a purger applies it every
interval (``clearance.audit.purge``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from clearance.audit import tree
from clearance.audit.checkpointer import Checkpointer, IntegrityConfig
from clearance.audit.envelope import Envelope
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.purge import Purger
from clearance.audit.retention import RetentionConfig
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import audit_originals, audit_records, heartbeats
from clearance.models import AuditRecord
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.audit")


class AuditStore(Protocol):
    """Where records go. ``record`` must not block or fail: durability is the store's job."""

    async def start(self) -> None: ...
    def record(self, entry: AuditRecord) -> None: ...
    async def flush(self) -> None: ...
    async def writable(self) -> bool: ...
    async def close(self) -> None: ...


def _row(entry: AuditRecord) -> dict[str, Any]:
    """The one place a record becomes a row of ``audit_records`` (docs/audit.md lists the fields)."""
    return {
        "request_id": entry.request_id,
        "created_at": datetime.fromtimestamp(entry.started_at, UTC),
        "method": entry.method,
        "endpoint": entry.endpoint,
        "model": entry.model,
        "upstream": entry.upstream,
        "status": entry.status,
        "latency_ms": round(entry.latency_ms, 3),
        "bytes_in": entry.bytes_in,
        "bytes_out": entry.bytes_out,
        "stream": entry.stream,
        "prompt_tokens": entry.usage.prompt_tokens,
        "completion_tokens": entry.usage.completion_tokens,
        "total_tokens": entry.usage.total_tokens,
        "error_code": entry.error_code,
        "subject": entry.subject,
        "client_addr": entry.client_addr,
        "decision": entry.decision,
        "rule": entry.rule,
        "reasons": list(entry.reasons) or None,
        "level": entry.level,
        "declared_label": entry.declared_label,
        "findings": dict(entry.findings) or None,
        "masked_request": dict(entry.masked_request) or None,
        "masked_response": dict(entry.masked_response) or None,
        "record_mode": entry.record_mode,
        "approval_id": entry.approval_id,
        "instance": entry.instance,
        "email": entry.email,
        "groups": list(entry.groups) or None,
        "auth_method": entry.auth_method,
        "key_id": entry.key_id,
        "user_agent": entry.user_agent,
        "positions": [{"type": p.type, "path": list(p.path), "start": p.start, "end": p.end} for p in entry.positions]
        or None,
        "request_text": entry.request_text,
        "response_text": entry.response_text,
        "truncated": entry.truncated,
        "ttft_ms": round(entry.ttft_ms, 3) if entry.ttft_ms is not None else None,
        "policy_version": entry.policy_version,
        "detector_version": entry.detector_version,
        "identity_kind": entry.identity_kind,
        "policy_model": entry.policy_model,
        "originals_sha256": entry.originals_sha256,
    }


_ENVELOPE = "_originals_envelope"
"""The key of a row's sealed originals on its way to ``audit_originals`` (a name no column has)."""


def _sealed_row(record_id: int, request_id: str, envelope: bytes) -> dict[str, Any]:
    """A row of ``audit_originals``: the envelope apart from the record's row, so deleting it leaves the leaf whole."""
    kek_id = Envelope.from_bytes(envelope).kek_id
    return {"record_id": record_id, "request_id": request_id, "kek_id": kek_id, "envelope": envelope}


class SqlAuditStore:
    """Audit records in a SQL database reached through SQLAlchemy (SQLite or PostgreSQL).

    The writer waits ``linger_s`` after a record arrives so that one transaction carries many: each batch has a
    fixed cost (a thread hop, a transaction, the pages it dirties), which small batches pay per few records.
    """

    def __init__(
        self,
        url: str,
        *,
        linger_s: float = 0.1,
        max_batch: int = 512,
        retry_s: float = 1.0,
        on_queue_depth: Callable[[int], None] | None = None,
        on_failure: Callable[[], None] | None = None,
        integrity: IntegrityConfig | None = None,
        retention: RetentionConfig | None = None,
        on_written: Callable[[Sequence[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.instance = uuid.uuid4().hex[:16]
        self._queue: asyncio.Queue[AuditRecord | None] = asyncio.Queue()
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._retry_s = retry_s
        self._tasks = TaskSet()
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_queue_depth = on_queue_depth
        self._on_failure = on_failure
        self._on_written = on_written
        """Told the rows of each batch once committed, with their ids (the audit sinks stream them)."""
        self._integrity = integrity or IntegrityConfig()
        self._checkpoints = TaskSet()
        self.checkpointer: Checkpointer | None = None
        self._retention = retention or RetentionConfig()
        self.purger: Purger | None = None

    async def start(self) -> None:
        await asyncio.to_thread(migrate.upgrade, self.engine)
        self.checkpointer = Checkpointer.from_config(self.engine, self._integrity)  # a bad key stops the start
        self.purger = Purger.from_config(self.engine, self._retention, self._integrity)  # None: no retention
        self._writer_task = self._tasks.spawn(self._writer(), name="audit-writer")
        if self.checkpointer is not None:
            interval = self._integrity.checkpoint_interval
            _ = self._checkpoints.spawn(self.checkpointer.run(interval), name="audit-checkpoints")
        if self.purger is not None:
            _ = self._checkpoints.spawn(self.purger.run(), name="audit-purge")

    def record(self, entry: AuditRecord) -> None:
        self._idle.clear()
        self._queue.put_nowait(entry)

    async def _writer(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            if self._linger_s and self._queue.qsize() < self._max_batch - 1:  # a full batch waiting: no linger
                await asyncio.sleep(self._linger_s)
            batch = [first]
            stop = False
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._write_until_done(batch)
            if self._on_queue_depth is not None:
                self._on_queue_depth(self._queue.qsize())
            if self._queue.empty():
                self._idle.set()
            if stop:
                return

    async def _write_until_done(self, batch: Sequence[AuditRecord]) -> None:
        rows = [_row(r) if r.originals is None else {**_row(r), _ENVELOPE: r.originals} for r in batch]
        while True:
            try:
                written = await asyncio.to_thread(self._insert, rows)
            except Exception as exc:  # the store is down: keep the batch, retry
                log.error(
                    "audit write failed; retrying",
                    extra={"records": len(rows), "error": type(exc).__name__},
                )
                if self._on_failure is not None:
                    self._on_failure()
                await asyncio.sleep(self._retry_s)
            else:
                if self._on_written is not None:
                    self._on_written(written)
                return

    def _insert(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Insert ``rows`` as leaves of the tree in one transaction; the rows as written, with their ids. A row
        with sealed originals carries their envelope under ``_ENVELOPE`` (not a column: the leaf never sees it),
        which goes to ``audit_originals``."""
        hashes = [record_leaf_hash(row) for row in rows]
        sealed = [row.get(_ENVELOPE) for row in rows]
        rows = [{k: v for k, v in row.items() if k != _ENVELOPE} for row in rows]
        with self.engine.begin() as connection:
            head = tree.lock_head(connection)  # one order across instances: the ids below rise with the leaves
            ids = tree.allocate_ids(connection, len(rows))
            written = [{**row, "id": i} for i, row in zip(ids, rows, strict=True)]
            connection.execute(audit_records.insert(), written)
            leaves = [(i, row["request_id"], h) for i, row, h in zip(ids, rows, hashes, strict=True)]
            tree.append(connection, head, leaves)
            originals = [
                _sealed_row(i, row["request_id"], envelope)
                for i, row, envelope in zip(ids, rows, sealed, strict=True)
                if envelope is not None
            ]
            if originals:
                connection.execute(audit_originals.insert(), originals)
        return written

    async def flush(self) -> None:
        """Wait until everything recorded so far is written."""
        await self._idle.wait()

    async def writable(self) -> bool:
        try:
            await asyncio.to_thread(self._heartbeat)
        except Exception as exc:
            log.warning("audit store not writable", extra={"error": type(exc).__name__})
            return False
        return True

    def _heartbeat(self) -> None:
        now = datetime.now(UTC)
        dialect = self.engine.dialect.name
        insert: Any = (postgresql if dialect == "postgresql" else sqlite).insert(heartbeats)
        stmt = insert.values(instance=self.instance, seen_at=now).on_conflict_do_update(
            index_elements=["instance"], set_={"seen_at": now}
        )
        with self.engine.begin() as connection:
            connection.execute(stmt)

    async def close(self) -> None:
        self._queue.put_nowait(None)
        await self._tasks.join()
        await self._checkpoints.cancel_all()
        if self.checkpointer is not None:  # the last records written get a checkpoint too
            try:
                await asyncio.to_thread(self.checkpointer.checkpoint)
            except Exception as exc:
                log.error("audit checkpoint at shutdown failed", extra={"error": type(exc).__name__})
        await asyncio.to_thread(self.engine.dispose)

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest records, newest first (for the CLI and tests)."""
        query = select(audit_records).order_by(audit_records.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]
