"""Engines for a database URL: SQLite in WAL mode, its directory made; PostgreSQL checks pooled connections."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from clearance.db.engine import make_engine


def test_when_a_sqlite_engine_connects_then_the_file_is_in_wal_mode_with_normal_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")

    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
    engine.dispose()


def test_when_the_sqlite_file_is_in_a_missing_directory_then_the_directory_is_made(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'lib' / 'gateway.db'}")

    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))

    assert (tmp_path / "var" / "lib" / "gateway.db").exists()
    engine.dispose()


def test_when_sqlite_is_in_memory_then_no_file_or_directory_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    engine = make_engine("sqlite:///:memory:")

    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1

    assert list(tmp_path.iterdir()) == []
    engine.dispose()


def test_when_the_url_is_postgresql_then_pooled_connections_are_checked_before_use() -> None:
    engine = make_engine("postgresql+psycopg://clearance@127.0.0.1:5432/clearance")  # never connects

    assert engine.dialect.name == "postgresql"
    assert engine.pool._pre_ping
    engine.dispose()


@pytest.mark.postgres
def test_when_postgresql_is_reached_then_the_engine_works(postgres_url: str) -> None:
    engine = make_engine(postgres_url)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
