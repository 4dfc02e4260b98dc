"""The ``database:`` section of the configuration file: where every table lives."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

DEFAULT_URL = "sqlite:///clearance-audit.db"


class DatabaseConfig(BaseModel):
    """The one database of the gateway: audit records, API keys and what comes next."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = DEFAULT_URL
    """A SQLAlchemy URL. SQLite (the default, a file beside the gateway) runs in WAL mode; for PostgreSQL, shared by
    several gateways: ``postgresql+psycopg://user@host/dbname``. ``audit.url`` is read as an older name of this
    key."""
