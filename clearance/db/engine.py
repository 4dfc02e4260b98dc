"""Engines for a database URL, with the settings each backend needs to serve a gateway."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy import Engine, create_engine, event


def make_engine(url: str) -> Engine:
    """An engine for ``url``.

    SQLite gets WAL (readers never wait for the writer), a 30 s busy timeout and NORMAL sync (safe with WAL), and
    the file's directory is made if missing. Other backends (PostgreSQL) check a pooled connection before use, so
    that a database restart costs a reconnect instead of a failed request.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)
