"""Retention purges: records past their level's retention (``audit.retention``) deleted, or emptied of their text,
under a signed tombstone checkpoint, so that ``clearance audit verify`` tells a sanctioned purge from a deletion.

A purge never touches the tree: a purged record's leaf stays (it is a hash). For each record it takes, it writes a
tombstone (``audit_tombstones``): the leaf index, record and request ids, the leaf hash of the row as it was and,
for a row kept without its text (``keep_metadata``), the leaf hash of the row left (``kept_hash``). It then signs,
with the log's checkpoint key, a checkpoint of the tree as it stands whose note carries one extension line naming the
purge::

    clearance-purge <count> <sha256 hex of the purged leaves' lines>

where each purged leaf is the line ``<leaf index> <leaf hash hex> <kept hash hex, or ->`` and the lines are sorted
by leaf index (``purge_digest``). The note is stored in ``audit_purges`` and written to the checkpoint exports
(a directory gets ``<size>-purge-<id>.checkpoint``, never overwritten). Verification accepts a tombstone only when
a checkpoint signed with the verifier key carries its purge's line; anyone without the key who deletes a record and
writes a tombstone for it is reported.

A record that no longer hashes to its leaf (modified) or that is in no leaf (inserted around the gateway) is never
purged: purging it would launder the tampering; it is left for verify to report, and counted as ``refused``.
Records written before the tree existed (``base_record_id``) are not covered by it: they are purged with no
tombstone.

Each batch is one transaction: the tree head is locked first (as the writer does: appends wait for it), and on
PostgreSQL a transaction-scoped advisory lock is tried before, so that one purger runs at a time across instances
(another finds it taken and skips its turn). Without a signing key there is no purge: it could not be sanctioned.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, insert, or_, select, text, true, update
from sqlalchemy.sql.elements import ColumnElement

from clearance.audit import tree
from clearance.audit.checkpoint import Checkpoint, sign_checkpoint
from clearance.audit.checkpointer import IntegrityConfig
from clearance.audit.export import SUFFIX, CheckpointExport, DirectoryExport
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.note import NoteSigner, load_signer
from clearance.audit.retention import DEFAULT_RULE, TEXT_COLUMNS, RetentionConfig
from clearance.db.tables import audit_leaves, audit_purges, audit_records, audit_tombstones
from clearance.exceptions import ConfigError

log = logging.getLogger("clearance.audit")

PURGE_EXTENSION = "clearance-purge"
"""The first word of a purge checkpoint's extension line."""

ADVISORY_LOCK_KEY = 0x436C_6561_7250_7572
"""PostgreSQL advisory lock held by the purging transaction ("ClearPur"): one purger at a time across instances."""

MAX_BATCHES = 100_000
"""Bound on the batches of one purge run (each takes up to ``audit.retention.batch`` records)."""


@dataclass(frozen=True, slots=True)
class PurgedLeaf:
    """What a tombstone commits to: which leaf, its hash, and the hash of the row kept (``None``: deleted)."""

    leaf_index: int
    leaf_hash: bytes
    kept_hash: bytes | None

    def line(self) -> str:
        kept = "-" if self.kept_hash is None else self.kept_hash.hex()
        return f"{self.leaf_index} {self.leaf_hash.hex()} {kept}\n"


def purge_digest(leaves: Iterable[PurgedLeaf]) -> str:
    """SHA-256 (hex) of the purged leaves' lines, sorted by leaf index."""
    ordered = sorted(leaves, key=lambda leaf: leaf.leaf_index)
    return hashlib.sha256("".join(leaf.line() for leaf in ordered).encode()).hexdigest()


def purge_extension(leaves: Sequence[PurgedLeaf]) -> str:
    """The extension line a purge's signed checkpoint carries: ``clearance-purge <count> <digest>``."""
    return f"{PURGE_EXTENSION} {len(leaves)} {purge_digest(leaves)}"


def purge_file_name(size: int, purge_id: int) -> str:
    """The file a directory export writes a purge's checkpoint to (its own name: a plain checkpoint of the same size
    may be there already)."""
    return f"{size:020d}-purge-{purge_id:010d}{SUFFIX}"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    """What a purge run did (or, dry, would do). ``by_rule``: records per rule name; ``refused``: request ids of the
    records due that were left because they no longer match the tree; ``busy``: another purger held the lock."""

    dry_run: bool
    deleted: int = 0
    text_purged: int = 0
    untracked: int = 0
    by_rule: dict[str, int] = field(default_factory=dict)
    refused: tuple[str, ...] = ()
    purges: tuple[int, ...] = ()
    busy: bool = False

    @property
    def purged(self) -> int:
        return self.deleted + self.text_purged

    def __add__(self, other: PurgeResult) -> PurgeResult:
        rules = dict(self.by_rule)
        for name, count in other.by_rule.items():
            rules[name] = rules.get(name, 0) + count
        return PurgeResult(
            self.dry_run,
            self.deleted + other.deleted,
            self.text_purged + other.text_purged,
            self.untracked + other.untracked,
            rules,
            self.refused + other.refused,
            self.purges + other.purges,
            self.busy or other.busy,
        )


@dataclass(frozen=True, slots=True)
class _Due:
    row: dict[str, Any]
    rule: str
    keep_metadata: bool
    leaf_index: int | None
    leaf_hash: bytes | None


class Purger:
    """Applies ``retention`` to the audit trail in ``engine``'s database, signing each purge with ``signer``.
    ``purge`` blocks (run it on a thread); ``run`` calls it every ``retention.interval`` seconds until cancelled."""

    def __init__(
        self,
        engine: Engine,
        retention: RetentionConfig,
        signer: NoteSigner,
        *,
        origin: str,
        exports: Sequence[CheckpointExport] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._engine = engine
        self._sleep = sleep
        self._retention = retention
        self._signer = signer
        self._origin = origin
        self._exports = tuple(exports)
        self._now = now

    @classmethod
    def from_config(
        cls,
        engine: Engine,
        retention: RetentionConfig,
        integrity: IntegrityConfig,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> Purger | None:
        """The purger the configuration asks for, its key read now; ``None`` without a retention rule."""
        if not retention.enabled:
            return None
        if integrity.signing_key is None:
            raise ConfigError(
                "audit.retention needs audit.integrity.signing_key: a purge is signed so that verify can tell it "
                "from a deletion (docs/audit.md, Retention)"
            )
        signer = load_signer(integrity.signing_key)
        return cls(
            engine,
            retention,
            signer,
            origin=integrity.origin or signer.name,
            exports=integrity.exports(),
            now=now,
        )

    def purge(self, *, dry_run: bool = False) -> PurgeResult:
        """Purge every record due now, batch after batch; ``dry_run``: only count them, changing nothing."""
        now = self._now().astimezone(UTC)
        total = PurgeResult(dry_run=dry_run)
        after_id = 0
        for _ in range(MAX_BATCHES):
            step, after_id, taken = self._count(now, after_id) if dry_run else self._batch(now, after_id)
            total += step
            if step.busy or taken < self._retention.batch:
                break
        if total.refused:
            log.error(
                "audit purge left records that no longer match the audit tree: run clearance audit verify",
                extra={"records": len(total.refused)},
            )
        return total

    def _tally(self, due: Sequence[_Due], base: int, *, dry_run: bool) -> tuple[PurgeResult, list[_Due]]:
        """What purging ``due`` does, and the records it takes (those that still match the tree)."""
        deleted = text_purged = untracked = 0
        rules: dict[str, int] = {}
        refused: list[str] = []
        chosen: list[_Due] = []
        for item in due:
            if not self._purgeable(item, base):
                refused.append(str(item.row["request_id"]))
                continue
            chosen.append(item)
            rules[item.rule] = rules.get(item.rule, 0) + 1
            if item.leaf_index is None:
                untracked += 1
            if item.keep_metadata:
                text_purged += 1
            else:
                deleted += 1
        return PurgeResult(dry_run, deleted, text_purged, untracked, rules, tuple(refused)), chosen

    @staticmethod
    def _purgeable(item: _Due, base: int) -> bool:
        if item.leaf_index is None:  # in no leaf: written before the tree (fine) or around the gateway (not)
            return int(item.row["id"]) <= base
        return record_leaf_hash(item.row) == item.leaf_hash

    def _count(self, now: datetime, after_id: int) -> tuple[PurgeResult, int, int]:
        """A dry run's batch: what ``_batch`` would take, read without a lock and changed not at all."""
        with self._engine.connect() as connection:
            base = tree.read_head(connection).base_record_id
            due = self._due(connection, now, after_id=after_id, limit=self._retention.batch)
        last_id = int(due[-1].row["id"]) if due else after_id
        return self._tally(due, base, dry_run=True)[0], last_id, len(due)

    def _batch(self, now: datetime, after_id: int) -> tuple[PurgeResult, int, int]:
        """One transaction: lock, take up to ``batch`` records due after ``after_id``, purge them, sign."""
        with self._engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                taken = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                if not taken.scalar():
                    log.info("audit purge skipped: another instance is purging")
                    return PurgeResult(dry_run=False, busy=True), after_id, 0
            head = tree.lock_head(connection)
            due = self._due(connection, now, after_id=after_id, limit=self._retention.batch)
            result, chosen = self._tally(due, head.base_record_id, dry_run=False)
            tombstones = [self._tombstone(item) for item in chosen if item.leaf_index is not None]
            deleted = [int(item.row["id"]) for item in chosen if not item.keep_metadata]
            emptied = [int(item.row["id"]) for item in chosen if item.keep_metadata]
            if deleted:
                connection.execute(delete(audit_records).where(audit_records.c.id.in_(deleted)))
            if emptied:
                connection.execute(
                    update(audit_records).where(audit_records.c.id.in_(emptied)).values(dict.fromkeys(TEXT_COLUMNS))
                )
            note: str | None = None
            purge_id = 0
            if tombstones:
                leaves = [PurgedLeaf(t["leaf_index"], t["leaf_hash"], t["kept_hash"]) for t in tombstones]
                checkpoint = Checkpoint(
                    self._origin, head.frontier.size, head.frontier.root(), (purge_extension(leaves),)
                )
                note = sign_checkpoint(checkpoint, [self._signer])
                purge_id = connection.execute(
                    insert(audit_purges)
                    .values(
                        size=checkpoint.size, count=len(leaves), digest=purge_digest(leaves), note=note, created_at=now
                    )
                    .returning(audit_purges.c.id)
                ).scalar_one()
                connection.execute(
                    insert(audit_tombstones), [{**t, "purged_at": now, "purge_id": purge_id} for t in tombstones]
                )
        last_id = int(due[-1].row["id"]) if due else after_id
        if note is None:
            return result, last_id, len(due)
        log.info("audit purge signed", extra={"size": head.frontier.size, "records": len(tombstones)})
        self._export(head.frontier.size, purge_id, note)
        return (
            PurgeResult(
                False,
                result.deleted,
                result.text_purged,
                result.untracked,
                result.by_rule,
                result.refused,
                (purge_id,),
            ),
            last_id,
            len(due),
        )

    @staticmethod
    def _tombstone(item: _Due) -> dict[str, Any]:
        kept = None
        if item.keep_metadata:
            kept = record_leaf_hash({**item.row, **dict.fromkeys(TEXT_COLUMNS)})
        return {
            "leaf_index": item.leaf_index,
            "record_id": int(item.row["id"]),
            "request_id": str(item.row["request_id"]),
            "leaf_hash": item.leaf_hash,
            "kept_hash": kept,
            "rule": item.rule,
        }

    def _export(self, size: int, purge_id: int, note: str) -> None:
        for export in self._exports:
            try:
                if isinstance(export, DirectoryExport):
                    export.write_named(purge_file_name(size, purge_id), size, note)
                else:
                    export.write(size, note)
            except Exception as exc:  # the note is in audit_purges: verify reads it there too
                log.error("audit purge checkpoint export failed", extra={"size": size, "error": str(exc)})

    def _due(self, connection: Connection, now: datetime, *, after_id: int, limit: int) -> list[_Due]:
        """Records past their rule's retention, after ``after_id``, in id order, not purged before."""
        named = [name for name in self._retention.levels if name != DEFAULT_RULE]
        level = audit_records.c.level
        conditions: list[ColumnElement[bool]] = []
        for name, rule in self._retention.levels.items():
            if name == DEFAULT_RULE:
                matches = or_(level.is_(None), level.not_in(named)) if named else true()
            else:
                matches = level == name
            condition = and_(matches, audit_records.c.created_at < now - rule.after)
            if rule.keep_metadata:
                condition = and_(condition, or_(*(audit_records.c[c].is_not(None) for c in TEXT_COLUMNS)))
            conditions.append(condition)
        query = (
            select(
                audit_records, audit_leaves.c.leaf_index.label("_leaf_index"), audit_leaves.c.leaf_hash.label("_leaf")
            )
            .select_from(
                audit_records.outerjoin(audit_leaves, audit_leaves.c.record_id == audit_records.c.id).outerjoin(
                    audit_tombstones, audit_tombstones.c.leaf_index == audit_leaves.c.leaf_index
                )
            )
            .where(audit_tombstones.c.leaf_index.is_(None), audit_records.c.id > after_id, or_(*conditions))
            .order_by(audit_records.c.id)
            .limit(limit)
        )
        due: list[_Due] = []
        for found in connection.execute(query):
            mapping = found._mapping
            row = {column.name: mapping[column] for column in audit_records.columns}
            matched = self._retention.rule_for(row["level"])
            if matched is None:  # the query and rule_for agree; kept as a guard
                continue
            name, rule = matched
            leaf_index = mapping["_leaf_index"]
            leaf = mapping["_leaf"]
            due.append(
                _Due(
                    row,
                    name,
                    rule.keep_metadata,
                    None if leaf_index is None else int(leaf_index),
                    None if leaf is None else bytes(leaf),
                )
            )
        return due

    async def run(self) -> None:
        """Purge every ``retention.interval`` seconds until cancelled; a failure is logged and tried next time."""
        while True:
            await self._sleep(self._retention.interval)
            try:
                result = await asyncio.to_thread(self.purge)
            except Exception as exc:  # the database is down: the next tick tries again
                log.error("audit purge failed", extra={"error": type(exc).__name__})
                continue
            if result.purged:
                log.info(
                    "audit purge done",
                    extra={"deleted": result.deleted, "text_purged": result.text_purged, "purges": len(result.purges)},
                )
