"""The tree in the database: appended under the head's lock, its frontier saved with the leaves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from clearance.audit import tree
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.merkle import root_hash
from clearance.audit.store import _row
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import audit_leaves, audit_records
from tests.audit.conftest import trail_record


def test_when_a_fresh_database_is_migrated_then_the_tree_is_empty_and_starts_after_no_record(trail_url: str) -> None:
    engine = make_engine(trail_url)
    migrate.upgrade(engine)
    with engine.connect() as c:
        head = tree.read_head(c)
    engine.dispose()

    assert (head.frontier.size, head.base_record_id) == (0, 0)


def test_when_records_exist_before_the_tree_then_the_tree_starts_after_them(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate.upgrade(engine, "0008")
    with engine.begin() as c:
        c.execute(audit_records.insert(), [_row(trail_record(i)) for i in range(3)])
    migrate.upgrade(engine)
    with engine.connect() as c:
        head = tree.read_head(c)
    engine.dispose()

    assert (head.frontier.size, head.base_record_id) == (0, 3)


def test_when_batches_are_appended_then_the_saved_frontier_gives_the_root_of_all_leaves(trail_url: str) -> None:
    engine = make_engine(trail_url)
    migrate.upgrade(engine)
    rows = [_row(trail_record(i)) for i in range(7)]
    for batch in (rows[:3], rows[3:]):
        with engine.begin() as c:
            head = tree.lock_head(c)
            ids = c.execute(audit_records.insert().returning(audit_records.c.id, sort_by_parameter_order=True), batch)
            tree.append(c, head, list(zip(ids.scalars().all(), batch, strict=True)))
    with engine.connect() as c:
        head = tree.read_head(c)
        leaves = c.execute(select(audit_leaves).order_by(audit_leaves.c.leaf_index)).all()
    engine.dispose()

    assert [leaf.request_id for leaf in leaves] == [f"req-{i}" for i in range(7)]
    assert [leaf.leaf_index for leaf in leaves] == list(range(7))
    assert head.frontier.size == 7
    assert head.frontier.root() == root_hash([record_leaf_hash(r) for r in rows])
