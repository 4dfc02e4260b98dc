"""Bring a database to the newest schema with Alembic, programmatically (no alembic.ini needed).

One history (``migrations/versions``) holds every table; the revision ids and Alembic's ``alembic_version`` table
are those the audit store has always used, so a database made by any earlier release upgrades in place.

Several instances may start at once on one PostgreSQL database (a deployment's replicas): each migration transaction
first takes an advisory lock, so one migrates while the others wait, then find the database at the head and do
nothing. Without it they would all ``CREATE TABLE`` at once, and all but one would fail to start. SQLite's write lock
does the same for a file shared by processes on one host.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
ADVISORY_LOCK_KEY = 0x436C_6561_724D_6967
"""PostgreSQL advisory lock held by a migration transaction ("ClearMig"): one migration at a time across instances."""


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _one_at_a_time(connection: Connection) -> None:
    """Wait for any other migration of this PostgreSQL database to end (the lock ends with the transaction)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration ``engine``'s database lacks, up to ``revision``, in one transaction."""
    cfg = _config()
    with engine.begin() as connection:
        _one_at_a_time(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations after ``revision``, in one transaction (for an operator going back a release)."""
    cfg = _config()
    with engine.begin() as connection:
        _one_at_a_time(connection)
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()
