"""The audit store: a contract and its SQL implementation, in the gateway's database (``clearance.db``).

Writes never sit on the request path: ``record()`` only queues, and ``record_durably()`` waits only for the batch its
record rides in. One owned writer task drains the queue in batches on a worker thread. A batch the store refuses goes
to the audit spool (``clearance.audit.spool``: fsynced, checksummed) and is replayed, in order and exactly once, when
the store is back; without a spool it is retried until the store takes it. ``close()`` waits for everything queued to
be written (or spooled). Each batch's records become leaves of the audit tree in the same transaction
(``clearance.audit.tree``), and a record's sealed originals go to ``audit_originals`` in it too (the row keeps only
their hash: ``clearance.audit.originals``); with ``audit.integrity`` configured, a checkpointer signs the tree
periodically and at close (``clearance.audit.checkpointer``); with ``audit.retention``, a purger applies it every
interval (``clearance.audit.purge``). Rows written are handed to ``on_written`` (the sinks) on the event loop, in
order.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from clearance.audit.spool import Spool, SpoolConfig, SpoolFull, default_directory
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import audit_originals, audit_records, heartbeats
from clearance.exceptions import AuditUnavailable
from clearance.models import AuditRecord
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.audit")


class AuditStore(Protocol):
    """Where records go. ``record`` must not block or fail: durability is the store's job. ``record_durably`` waits
    until the record is in the store or the spool (``AuditUnavailable`` when it cannot be kept); ``accepting`` says
    whether a request of data level ``level`` may be served now."""

    async def start(self) -> None: ...
    def record(self, entry: AuditRecord) -> None: ...
    async def record_durably(self, entry: AuditRecord) -> Receipt | None: ...
    def accepting(self, level: str | None) -> bool: ...
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


def _stored_row(entry: AuditRecord) -> dict[str, Any]:
    """The row ``_insert`` takes: the record's columns, and its sealed originals under ``_ENVELOPE`` if any."""
    row = _row(entry)
    return row if entry.originals is None else {**row, _ENVELOPE: entry.originals}


def _sealed_row(record_id: int, request_id: str, envelope: bytes) -> dict[str, Any]:
    """A row of ``audit_originals``: the envelope apart from the record's row, so deleting it leaves the leaf whole."""
    kek_id = Envelope.from_bytes(envelope).kek_id
    return {"record_id": record_id, "request_id": request_id, "kek_id": kek_id, "envelope": envelope}


@dataclass(frozen=True, slots=True)
class _Queued:
    """A record waiting for the writer: its spool key, and the future its request awaits (``record_durably``)."""

    entry: AuditRecord
    key: str
    done: asyncio.Future[Receipt] | None


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a caller may hold of its record once it is durable: its ``spool_key`` and its leaf hash (the hash the
    audit tree commits to, ``clearance.audit.leaf``), whether the record is in the store yet or in the spool."""

    key: str
    leaf_hash: bytes

    def header(self) -> str:
        """The ``X-Clearance-Record`` header's value."""
        return f"key={self.key}; leaf={self.leaf_hash.hex()}"


def _settle(batch: Sequence[_Queued], error: Exception | None, hashes: Sequence[bytes] = ()) -> None:
    for i, item in enumerate(batch):
        if item.done is not None and not item.done.done():
            if error is None:
                item.done.set_result(Receipt(item.key, hashes[i]))
            else:
                item.done.set_exception(error)


class SqlAuditStore:
    """Audit records in a SQL database reached through SQLAlchemy (SQLite or PostgreSQL).

    The writer waits ``linger_s`` after a record arrives so that one transaction carries many: each batch has a
    fixed cost (a thread hop, a transaction, the pages it dirties), which small batches pay per few records. It does
    not wait when the first record's request awaits durability (``record_durably``): the records that arrive while
    one batch is written form the next.

    With a spool (``spool``; the default unless the database is SQLite in memory), a batch the store refuses goes to
    the spool (one fsync for the batch) and later batches follow it there, in order, until a replay (tried every
    ``retry_s``) has put all of it in the store. Without one, a failed batch is retried until the store takes it.
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
        spool: SpoolConfig | None = None,
    ) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.instance = uuid.uuid4().hex[:16]
        self._queue: asyncio.Queue[_Queued | None] = asyncio.Queue()
        self._linger_s = linger_s
        self._max_batch = max_batch
        self._retry_s = retry_s
        self._tasks = TaskSet()
        self._idle = asyncio.Event()
        self._idle.set()
        self._on_queue_depth = on_queue_depth
        self._on_failure = on_failure
        self._on_written = on_written
        self._loop: asyncio.AbstractEventLoop | None = None
        """The loop ``start`` ran on: ``_insert`` (on a worker thread) hands written rows to ``on_written`` there."""
        """Told the rows of each batch once committed, with their ids (the audit sinks stream them)."""
        self._integrity = integrity or IntegrityConfig()
        self._checkpoints = TaskSet()
        self.checkpointer: Checkpointer | None = None
        self._retention = retention or RetentionConfig()
        self.purger: Purger | None = None
        self._spool_config = spool or SpoolConfig()
        self._spool_directory = self._spool_config.directory or default_directory(url)
        self.spool: Spool | None = None
        self._sequence = 0
        self._store_down_at: float | None = None  # monotonic time of the last failed write; None: the store is up
        self._unavailable = False  # the store is down and the last batch could not be spooled either
        self._drained = asyncio.Event()  # the spool is empty: everything spooled is in the store
        self._drained.set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(migrate.upgrade, self.engine)
        self.checkpointer = Checkpointer.from_config(self.engine, self._integrity)  # a bad key stops the start
        self.purger = Purger.from_config(self.engine, self._retention, self._integrity)  # None: no retention
        if self._spool_directory is not None:
            self.spool = await asyncio.to_thread(Spool.open, self._spool_directory, self._spool_config.max_bytes)
            if not self.spool.empty:  # what a stopped or killed process left: replayed first, before any new record
                self._drained.clear()
        self._writer_task = self._tasks.spawn(self._writer(), name="audit-writer")
        if self.checkpointer is not None:
            interval = self._integrity.checkpoint_interval
            _ = self._checkpoints.spawn(self.checkpointer.run(interval), name="audit-checkpoints")
        if self.purger is not None:
            _ = self._checkpoints.spawn(self.purger.run(), name="audit-purge")

    def record(self, entry: AuditRecord) -> None:
        self._enqueue(entry, None)

    async def record_durably(self, entry: AuditRecord) -> Receipt | None:
        """Queue ``entry`` and wait until it is in the store or the spool; its receipt. ``AuditUnavailable`` when
        neither could keep it, unless ``when_full`` is ``serve_public`` and its level is ``public`` (then None)."""
        done: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self._enqueue(entry, done)
        try:
            return await asyncio.shield(done)
        except AuditUnavailable:
            if not self.accepting(entry.level):
                raise
            return None

    def accepting(self, level: str | None) -> bool:
        """Whether a request of data level ``level`` may be served: always, unless the store is down and the spool
        full or unwritable (then only ``public`` data, with ``when_full: serve_public``)."""
        if not self._unavailable:
            return True
        return self._spool_config.when_full == "serve_public" and level == "public"

    def _enqueue(self, entry: AuditRecord, done: asyncio.Future[Receipt] | None) -> None:
        self._sequence += 1
        self._idle.clear()
        self._queue.put_nowait(_Queued(entry, f"{self.instance}:{self._sequence}", done))

    async def _writer(self) -> None:
        while True:
            if self.spool is not None and not self.spool.empty and self._queue.empty():
                try:  # nothing new for a while: replay what waits in the spool
                    first = await asyncio.wait_for(self._queue.get(), max(self._retry_s, 0.01))
                except TimeoutError:
                    await self._replay()
                    continue
            else:
                first = await self._queue.get()
            if first is None:
                await self._replay()
                return
            if self._linger_s and first.done is None and self._queue.qsize() < self._max_batch - 1:
                # a full batch waiting, or a caller waiting for durability, is not kept waiting: records that
                # arrive while this batch is written make the next one (group commit), so batches still grow
                await asyncio.sleep(self._linger_s)
            batch = [first]
            stop = False
            while len(batch) < self._max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stop = True
                    break
                batch.append(item)
            await self._write(batch)
            if self._on_queue_depth is not None:
                self._on_queue_depth(self._queue.qsize())
            if self._queue.empty():
                self._idle.set()
            if stop:
                await self._replay()
                return

    async def _write(self, batch: Sequence[_Queued]) -> None:
        rows = [{**_stored_row(item.entry), "spool_key": item.key} for item in batch]
        if self.spool is None:
            _settle(batch, None, await self._write_until_done(rows))
            return
        if self._store_due() and await self._replay():
            try:
                hashes = await asyncio.to_thread(self._insert, rows)
            except Exception as exc:
                self._store_failed(exc, len(rows))
            else:
                self._store_down_at = None
                self._unavailable = False
                _settle(batch, None, hashes)
                return
        try:  # the store is down, or rows wait in the spool before these: these go to the spool, after them
            self._drained.clear()
            hashes = await asyncio.to_thread(self._spool_rows, self.spool, rows)
        except (SpoolFull, OSError) as exc:
            self._unavailable = True
            log.error(
                "audit store down and spool refused the batch; records lost, requests refused",
                extra={"records": len(rows), "error": type(exc).__name__},
            )
            _settle(batch, AuditUnavailable("the audit trail cannot keep records now (store down, spool full)"))
            return
        self._unavailable = False
        _settle(batch, None, hashes)

    @staticmethod
    def _spool_rows(spool: Spool, rows: list[dict[str, Any]]) -> list[bytes]:
        spool.append(rows)
        return [record_leaf_hash(row) for row in rows]

    def _store_due(self) -> bool:
        """Whether to try the store: it is up, or it failed at least ``retry_s`` ago."""
        down = self._store_down_at
        return down is None or time.monotonic() - down >= self._retry_s

    def _store_failed(self, exc: Exception, records: int) -> None:
        self._store_down_at = time.monotonic()
        log.error("audit write failed; spooling", extra={"records": records, "error": type(exc).__name__})
        if self._on_failure is not None:
            self._on_failure()

    async def _replay(self) -> bool:
        """Put what waits in the spool in the store, oldest first; whether the spool is now empty."""
        spool = self.spool
        if spool is None:
            return True
        while not spool.empty:
            if not self._store_due():
                return False
            entries = await asyncio.to_thread(spool.pending, self._max_batch)
            try:
                await asyncio.to_thread(self._insert, [e.row for e in entries], True)
            except Exception as exc:
                self._store_failed(exc, len(entries))
                return False
            self._store_down_at = None
            self._unavailable = False
            await asyncio.to_thread(spool.acknowledge, entries[-1].end)
            log.info("audit spool replayed", extra={"records": len(entries)})
        self._drained.set()
        return True

    async def _write_until_done(self, rows: list[dict[str, Any]]) -> list[bytes]:
        while True:
            try:
                return await asyncio.to_thread(self._insert, rows)
            except Exception as exc:  # the store is down: keep the batch, retry
                log.error(
                    "audit write failed; retrying",
                    extra={"records": len(rows), "error": type(exc).__name__},
                )
                if self._on_failure is not None:
                    self._on_failure()
                await asyncio.sleep(self._retry_s)

    def _insert(self, rows: list[dict[str, Any]], replayed: bool = False) -> list[bytes]:
        """Insert ``rows`` as one batch of leaves; their leaf hashes. ``replayed``: rows from the spool, of which
        those whose ``spool_key`` the table already holds (written before a crash cut the replay short) are
        skipped. A row with sealed originals carries their envelope under ``_ENVELOPE`` (not a column: the leaf
        never sees it), which goes to ``audit_originals``. The rows written, with their ids, are handed to
        ``on_written`` on the event loop once the transaction commits."""
        hashes = every = [record_leaf_hash(row) for row in rows]
        with self.engine.begin() as connection:
            head = tree.lock_head(connection)  # one order across instances: the ids below rise with the leaves
            if replayed:
                keys = [row["spool_key"] for row in rows]
                known = audit_records.c.spool_key.in_(keys)
                stored = set(connection.execute(select(audit_records.c.spool_key).where(known)).scalars())
                if stored:
                    kept = [(r, h) for r, h in zip(rows, hashes, strict=True) if r["spool_key"] not in stored]
                    rows, hashes = [r for r, _ in kept], [h for _, h in kept]
                if not rows:
                    return every
            sealed = [row.get(_ENVELOPE) for row in rows]
            rows = [{k: v for k, v in row.items() if k != _ENVELOPE} for row in rows]
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
        if self._on_written is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._on_written, written)
        return every

    async def flush(self) -> None:
        """Wait until everything recorded so far is written to the store or the spool."""
        await self._idle.wait()

    async def drained(self) -> None:
        """Wait until everything recorded so far is in the store (the spool replayed, the store back)."""
        await self._idle.wait()
        await self._drained.wait()

    async def writable(self) -> bool:
        """Whether records can be kept now: the store takes a write, or (it is down and) the spool still does."""
        try:
            await asyncio.to_thread(self._heartbeat)
        except Exception as exc:
            log.warning("audit store not writable", extra={"error": type(exc).__name__})
            spool = self.spool
            return spool is not None and not self._unavailable and spool.size < spool.max_bytes
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
        if self.spool is not None:
            self.spool.close()

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest records, newest first (for the CLI and tests)."""
        query = select(audit_records).order_by(audit_records.c.id.desc()).limit(limit)
        with self.engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]
