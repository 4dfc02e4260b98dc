"""The tree in the database: appended under the head's lock, its frontier saved with the leaves."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, inspect, select

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
    migrate.upgrade(engine, "0010")
    at_0010 = {column["name"] for column in inspect(engine).get_columns("audit_records")}
    rows = [{k: v for k, v in _row(trail_record(i)).items() if k in at_0010} for i in range(3)]  # columns of 0010
    with engine.begin() as c:
        c.execute(audit_records.insert(), rows)
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
            ids = tree.allocate_ids(c, len(batch))
            c.execute(audit_records.insert(), [{**row, "id": i} for i, row in zip(ids, batch, strict=True)])
            tree.append(c, head, [(i, r["request_id"], record_leaf_hash(r)) for i, r in zip(ids, batch, strict=True)])
    with engine.connect() as c:
        head = tree.read_head(c)
        leaves = c.execute(select(audit_leaves).order_by(audit_leaves.c.leaf_index)).all()
    engine.dispose()

    assert [leaf.request_id for leaf in leaves] == [f"req-{i}" for i in range(7)]
    assert [leaf.leaf_index for leaf in leaves] == list(range(7))
    assert head.frontier.size == 7
    assert head.frontier.root() == root_hash([record_leaf_hash(r) for r in rows])


def test_when_the_newest_record_was_deleted_then_its_id_is_never_given_again(trail_url: str) -> None:
    """Its leaf keeps the id: giving it to a new record would clash with that leaf and stall the writer."""
    engine = make_engine(trail_url)
    migrate.upgrade(engine)
    with engine.begin() as c:
        head = tree.lock_head(c)
        (first,) = tree.allocate_ids(c, 1)
        c.execute(audit_records.insert(), [{**_row(trail_record(0)), "id": first}])
        tree.append(c, head, [(first, "req-0", record_leaf_hash(_row(trail_record(0))))])
    with engine.begin() as c:
        c.execute(audit_records.delete())
    with engine.begin() as c:
        tree.lock_head(c)
        ids = tree.allocate_ids(c, 3)
    engine.dispose()

    assert ids == [first + 1, first + 2, first + 3]


def test_when_a_batch_is_appended_on_sqlite_then_it_takes_five_statements(tmp_path: Path) -> None:
    """The head's lock and read are one ``UPDATE … RETURNING``, the highest ids one ``SELECT``: a batch costs the
    lock, the ids, the records, the leaves and the new head, each statement several times its SQLite work in Python.
    """
    engine = make_engine(f"sqlite:///{tmp_path / 'trail.db'}")
    migrate.upgrade(engine)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: statements.append(sql.split()[0]))
    batch = [_row(trail_record(i)) for i in range(3)]
    with engine.begin() as c:
        head = tree.lock_head(c)
        ids = tree.allocate_ids(c, len(batch))
        c.execute(audit_records.insert(), [{**row, "id": i} for i, row in zip(ids, batch, strict=True)])
        frontier = tree.append(
            c, head, [(i, r["request_id"], record_leaf_hash(r)) for i, r in zip(ids, batch, strict=True)]
        )
    batch_statements = list(statements)
    with engine.connect() as c:
        saved = tree.read_head(c)
    engine.dispose()

    assert batch_statements == ["UPDATE", "SELECT", "INSERT", "INSERT", "UPDATE"]
    assert ids == [1, 2, 3]
    assert saved.frontier == frontier and saved.frontier.size == 3
