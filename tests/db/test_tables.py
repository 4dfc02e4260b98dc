"""The tables as declared agree with what the Alembic history builds, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table

from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import metadata


def _drift(url: str, declared: MetaData) -> list[object]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.connect() as connection:
        drift = list(compare_metadata(MigrationContext.configure(connection), declared))
    engine.dispose()
    return drift


def test_when_every_migration_has_run_then_the_database_matches_the_declared_tables(tmp_path: Path) -> None:
    assert _drift(f"sqlite:///{tmp_path / 'gateway.db'}", metadata) == []


@pytest.mark.postgres
def test_when_every_migration_has_run_on_postgresql_then_it_matches_the_declared_tables(postgres_url: str) -> None:
    assert _drift(postgres_url, metadata) == []


def test_when_a_table_is_declared_without_a_migration_then_the_comparison_notices(tmp_path: Path) -> None:
    """The check above is only as good as the comparison: a table missing from the history must show."""
    declared = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(declared)
    Table("approvals", declared, Column("id", Integer, primary_key=True))

    drift = _drift(f"sqlite:///{tmp_path / 'gateway.db'}", declared)

    assert [(change[0], change[1].name) for change in drift] == [("add_table", "approvals")]  # type: ignore[index]


def test_when_the_tables_are_listed_then_the_audit_trail_the_api_keys_and_the_approvals_share_one_metadata() -> None:
    assert set(metadata.tables) == {
        "audit_records",
        "heartbeats",
        "clearance_api_keys",
        "approval_requests",
        "approval_transitions",
        "audit_tree_head",
        "audit_leaves",
        "audit_checkpoints",
        "audit_purges",
        "audit_tombstones",
        "audit_originals",
        "audit_reveals",
        "policy_versions",
    }
