"""What every blocking store on the gateway's database shares: its engine, bringing the database to the newest
schema of the one history, and closing. The API keys and the approvals build on it; the audit store, which writes
from its own task, keeps its engine itself."""

from __future__ import annotations

from clearance.db import migrate
from clearance.db.engine import make_engine


class DatabaseStore:
    """A store on the database at ``url``. Blocking: the gateway calls it through ``asyncio.to_thread``."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine = make_engine(url)

    def create_tables(self) -> None:
        """Bring the database to the newest schema (``clearance.db.migrate``): every table, not only this store's."""
        migrate.upgrade(self._engine)

    def close(self) -> None:
        self._engine.dispose()
