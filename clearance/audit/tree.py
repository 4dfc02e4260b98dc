"""The audit tree in the database: the head (size and frontier) and the leaves, appended with each batch.

The writer calls ``lock_head`` first in the transaction that inserts a batch, so every instance appends in one
global order: PostgreSQL locks the head row (``SELECT ... FOR UPDATE``) until the transaction ends; SQLite takes its
database write lock with a no-op update of the head. Records are then inserted (their ids, in that locked order,
rise with the leaf index) and ``append`` adds one leaf per record and saves the new frontier, in the same
transaction: a batch is in the tree exactly when it is in the table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from clearance.audit.leaf import record_leaf_hash
from clearance.audit.merkle import HASH_SIZE, MerkleFrontier
from clearance.db.tables import audit_leaves, audit_tree_head

HEAD_ID = 1


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The tree as the database holds it: its frontier, and the last record id from before the tree existed."""

    frontier: MerkleFrontier
    base_record_id: int


def _nodes(raw: bytes) -> tuple[bytes, ...]:
    return tuple(raw[i : i + HASH_SIZE] for i in range(0, len(raw), HASH_SIZE))


def read_head(connection: Connection, *, for_update: bool = False) -> TreeHead:
    """The head row, locked until the transaction ends when ``for_update`` (PostgreSQL)."""
    query = select(audit_tree_head.c.size, audit_tree_head.c.nodes, audit_tree_head.c.base_record_id).where(
        audit_tree_head.c.id == HEAD_ID
    )
    if for_update:
        query = query.with_for_update()
    size, nodes, base = connection.execute(query).one()
    return TreeHead(MerkleFrontier(int(size), _nodes(bytes(nodes))), int(base))


def lock_head(connection: Connection) -> TreeHead:
    """Take the lock that orders appends across instances, and read the head under it."""
    if connection.dialect.name == "sqlite":
        # the first write of a SQLite transaction takes the database's one write lock until it ends
        connection.execute(update(audit_tree_head).where(audit_tree_head.c.id == HEAD_ID).values(id=HEAD_ID))
        return read_head(connection)
    return read_head(connection, for_update=True)


def append(connection: Connection, head: TreeHead, records: Sequence[tuple[int, Mapping[str, Any]]]) -> MerkleFrontier:
    """Append one leaf per ``(record id, row)``, in order, and save the new frontier. Call under ``lock_head``."""
    frontier = head.frontier
    leaves = []
    for record_id, row in records:
        digest = record_leaf_hash(row)
        leaves.append(
            {"leaf_index": frontier.size, "record_id": record_id, "request_id": row["request_id"], "leaf_hash": digest}
        )
        frontier = frontier.append(digest)
    if leaves:
        connection.execute(audit_leaves.insert(), leaves)
        connection.execute(
            update(audit_tree_head)
            .where(audit_tree_head.c.id == HEAD_ID)
            .values(size=frontier.size, nodes=b"".join(frontier.nodes))
        )
    return frontier
