from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from clearance.approvals.store import ApprovalStore
from clearance.auth.keys import ApiKeyStore
from clearance.db.store import DatabaseStore
from clearance.db.tables import metadata


def test_when_a_store_creates_its_tables_then_the_database_holds_every_table_of_the_history(tmp_path: Path) -> None:
    store = DatabaseStore(f"sqlite:///{tmp_path / 'gateway.db'}")
    store.create_tables()
    try:
        assert set(metadata.tables) <= set(inspect(store._engine).get_table_names())
    finally:
        store.close()


@pytest.mark.parametrize("kind", [ApiKeyStore, ApprovalStore])
def test_when_any_store_brings_the_schema_up_then_the_other_stores_tables_are_there_too(
    kind: type[DatabaseStore], tmp_path: Path
) -> None:
    store = kind(f"sqlite:///{tmp_path / 'gateway.db'}")
    store.create_tables()
    try:
        names = set(inspect(store._engine).get_table_names())
    finally:
        store.close()
    assert {"clearance_api_keys", "approval_requests", "audit_records"} <= names
