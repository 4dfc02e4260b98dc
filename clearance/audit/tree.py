"""The audit tree in the database: the head (size and frontier) and the leaves, appended with each batch.

The writer calls ``lock_head`` first in the transaction that inserts a batch, so every instance appends in one
global order: PostgreSQL locks the head row (``SELECT ... FOR UPDATE``) until the transaction ends; SQLite takes its
database write lock with a no-op update of the head. Records are then inserted (their ids, drawn in that locked
order, rise with the leaf index) and ``append`` adds one leaf per record and saves the new frontier, in the same
transaction: a batch is in the tree exactly when it is in the table. The ids are drawn before the insert
(``allocate_ids``) so that the insert stays a plain executemany.

The statements are built once, here: SQL expression objects are immutable, and building one per batch (several
dozen coercions each) cost more than running it on SQLite. On SQLite the lock and the read of the head are one
``UPDATE … RETURNING``, and both highest ids come from one ``SELECT``: a batch of one record takes five statements,
not seven (the per-core figures in docs/benchmark-proxy.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select, text, update

from clearance.audit.merkle import HASH_SIZE, MerkleFrontier
from clearance.db.tables import audit_leaves, audit_records, audit_tree_head

HEAD_ID = 1

_HEAD_COLUMNS = (audit_tree_head.c.size, audit_tree_head.c.nodes, audit_tree_head.c.base_record_id)
_READ_HEAD = select(*_HEAD_COLUMNS).where(audit_tree_head.c.id == HEAD_ID)
_READ_HEAD_FOR_UPDATE = _READ_HEAD.with_for_update()
_SQLITE_LOCK_HEAD = (
    update(audit_tree_head).where(audit_tree_head.c.id == HEAD_ID).values(id=HEAD_ID).returning(*_HEAD_COLUMNS)
)
"""A no-op update (SQLite's first write of a transaction takes the database's write lock) that returns the head."""
_SQLITE_TOP_IDS = select(
    select(func.max(audit_records.c.id)).scalar_subquery(),
    select(func.max(audit_leaves.c.record_id)).scalar_subquery(),
)
_SAVE_HEAD = (
    update(audit_tree_head)
    .where(audit_tree_head.c.id == HEAD_ID)
    .values(size=bindparam("new_size"), nodes=bindparam("new_nodes"))
)
_PG_DRAW_IDS = text("SELECT nextval(pg_get_serial_sequence('audit_records', 'id')) FROM generate_series(1, :count)")


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The tree as the database holds it: its frontier, and the last record id from before the tree existed."""

    frontier: MerkleFrontier
    base_record_id: int


def _nodes(raw: bytes) -> tuple[bytes, ...]:
    return tuple(raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE))


def read_head(connection: Connection, *, for_update: bool = False) -> TreeHead:
    """The head row, locked until the transaction ends when ``for_update`` (PostgreSQL)."""
    return _head(*connection.execute(_READ_HEAD_FOR_UPDATE if for_update else _READ_HEAD).one())


def _head(size: int, nodes: bytes, base: int) -> TreeHead:
    return TreeHead(MerkleFrontier(int(size), _nodes(bytes(nodes))), int(base))


def lock_head(connection: Connection) -> TreeHead:
    """Take the lock that orders appends across instances, and read the head under it."""
    if connection.dialect.name == "sqlite":
        # the first write of a SQLite transaction takes the database's one write lock until it ends
        return _head(*connection.execute(_SQLITE_LOCK_HEAD).one())
    return read_head(connection, for_update=True)


def allocate_ids(connection: Connection, count: int) -> list[int]:
    """Ids for the next ``count`` records, rising, taken under ``lock_head``: inserting them with their ids is an
    ordinary executemany (several times faster than ``INSERT ... RETURNING`` of many rows on both backends).

    PostgreSQL draws them from the column's sequence; SQLite, holding the write lock, counts on from the highest id
    a record or a leaf has had, so that an id whose record was deleted is never given again (its leaf keeps it).
    """
    if connection.dialect.name == "sqlite":
        top, leaf_top = connection.execute(_SQLITE_TOP_IDS).one()
        start = max(top or 0, leaf_top or 0) + 1
        return list(range(start, start + count))
    drawn = connection.execute(_PG_DRAW_IDS, {"count": count})
    return sorted(int(value) for value in drawn.scalars())


def append(connection: Connection, head: TreeHead, leaves: Sequence[tuple[int, str, bytes]]) -> MerkleFrontier:
    """Append one leaf per ``(record id, request id, leaf hash)``, in order, and save the new frontier. Call under
    ``lock_head``; hash the rows (``record_leaf_hash``) before taking it, so the lock is held for writes only."""
    frontier = head.frontier
    rows = []
    for record_id, request_id, digest in leaves:
        rows.append(
            {"leaf_index": frontier.size, "record_id": record_id, "request_id": request_id, "leaf_hash": digest}
        )
        frontier = frontier.append(digest)
    if rows:
        connection.execute(audit_leaves.insert(), rows)
        connection.execute(_SAVE_HEAD, {"new_size": frontier.size, "new_nodes": b"".join(frontier.nodes)})
    return frontier
