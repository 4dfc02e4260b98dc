"""The history of policy versions: every version a gateway loaded, kept in the gateway's database
(``policy_versions``), so the digest each audit record carries (``policy_version``) can be read back as the text
that decided, and two versions compared.

A version is its digest (the sha256 of its text, ``clearance.policy.compiled.Policy.digest``). Recording one is
idempotent: several instances loading the same version, or one instance restarting on it, keep one row whose first
and last load times widen to cover every load, and whose source and instance are those of the latest load.
``PolicyVersionStore`` is the SQL side (blocking); ``VersionRecorder`` writes the versions the policy holder swaps in
from an owned task, so the holder itself never waits on the database.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import case, select
from sqlalchemy.dialects import postgresql, sqlite

from clearance.db.store import DatabaseStore
from clearance.db.tables import policy_versions
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.audit.policy_versions")

MAX_SOURCE_CHARS: Final = 1024
"""The column's width: a longer path is kept cut, from its end (the file's name matters most)."""

VersionCursor = tuple[float, str]
"""Where a page starts: after the version first loaded at this time with this digest (newest first)."""


@dataclass(frozen=True, slots=True)
class VersionLoad:
    """One load of a version, as the gateway saw it."""

    digest: str
    text: str
    source: str
    loaded_at: float
    """Seconds since the epoch."""


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    """A version in the history. ``text`` is None in a listing (``page``) and the file's text from ``get``."""

    digest: str
    source: str
    first_loaded_at: float
    last_loaded_at: float
    instance: str
    text: str | None = None


_SUMMARY: Final = (
    policy_versions.c.digest,
    policy_versions.c.source,
    policy_versions.c.first_loaded_at,
    policy_versions.c.last_loaded_at,
    policy_versions.c.instance,
)


def _version(row: Any, text: str | None = None) -> PolicyVersion:
    return PolicyVersion(
        row.digest, row.source, float(row.first_loaded_at), float(row.last_loaded_at), row.instance, text
    )


class PolicyVersionStore(DatabaseStore):
    """The ``policy_versions`` table. Blocking: the gateway calls it through ``asyncio.to_thread``."""

    def record(self, load: VersionLoad, instance: str) -> None:
        """Keep ``load`` (one statement, safe when several instances record the same version at once)."""
        table = policy_versions
        insert: Any = (postgresql if self._engine.dialect.name == "postgresql" else sqlite).insert(table)
        new = insert.excluded
        newer = new.last_loaded_at >= table.c.last_loaded_at
        stmt = insert.values(
            digest=load.digest,
            text=load.text,
            source=load.source[-MAX_SOURCE_CHARS:],
            first_loaded_at=load.loaded_at,
            last_loaded_at=load.loaded_at,
            instance=instance,
        ).on_conflict_do_update(
            index_elements=["digest"],
            set_={
                "first_loaded_at": case(
                    (new.first_loaded_at < table.c.first_loaded_at, new.first_loaded_at),
                    else_=table.c.first_loaded_at,
                ),
                "last_loaded_at": case((newer, new.last_loaded_at), else_=table.c.last_loaded_at),
                "source": case((newer, new.source), else_=table.c.source),
                "instance": case((newer, new.instance), else_=table.c.instance),
            },
        )
        with self._engine.begin() as connection:
            connection.execute(stmt)

    def page(self, *, limit: int, after: VersionCursor | None = None) -> list[PolicyVersion]:
        """Up to ``limit`` versions, the most recently introduced first (by first load; then by digest)."""
        table = policy_versions
        query = select(*_SUMMARY)
        if after is not None:
            at, digest = after
            query = query.where(
                (table.c.first_loaded_at < at) | ((table.c.first_loaded_at == at) & (table.c.digest < digest))
            )
        query = query.order_by(table.c.first_loaded_at.desc(), table.c.digest.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [_version(row) for row in connection.execute(query)]

    def get(self, digest: str) -> PolicyVersion | None:
        """One version with its text, or None."""
        query = select(*_SUMMARY, policy_versions.c.text).where(policy_versions.c.digest == digest)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _version(row, row.text)


class VersionRecorder:
    """Writes each version the gateway loads into the history, from one owned task, in the order loaded.

    ``start`` records the version in force and starts the writer; ``loaded`` (the policy holder's listener) may be
    called from any thread and never blocks. A write that fails is logged and not retried: the gateway keeps
    serving, and the next start records the version in force again."""

    def __init__(self, store: PolicyVersionStore, instance: str) -> None:
        self._store = store
        self._instance = instance
        self._queue: asyncio.Queue[VersionLoad | None] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks = TaskSet()

    async def start(self, current: VersionLoad) -> None:
        self._loop = asyncio.get_running_loop()
        await self._write(current)
        _ = self._tasks.spawn(self._drain(), name="policy-versions")

    def loaded(self, load: VersionLoad) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():  # not started (the version in force is recorded at start) or stopped
            return
        loop.call_soon_threadsafe(self._queue.put_nowait, load)

    async def _write(self, load: VersionLoad) -> None:
        try:
            await asyncio.to_thread(self._store.record, load, self._instance)
        except Exception as exc:  # the history is for reading back; serving goes on without it
            log.error("policy version not recorded", extra={"digest": load.digest[:12], "error": type(exc).__name__})

    async def _drain(self) -> None:
        while (load := await self._queue.get()) is not None:
            await self._write(load)

    async def close(self) -> None:
        """Write what was loaded so far, then stop."""
        loop = self._loop
        if loop is not None:
            self._loop = None
            loop.call_soon(self._queue.put_nowait, None)  # after the loads already handed over (FIFO)
            await self._tasks.join()
