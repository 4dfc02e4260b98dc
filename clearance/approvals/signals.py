"""Release signals: "approval X changed", from whoever stored the change to every request waiting on X.

A signal carries only the approval's id: a waiter always reads the approval again from the store, so a signal
can never say more than the store does, and a spurious or repeated one costs a read.

- ``ApprovalSignals``: in-process. A waiter ``watch``es an id and waits on its ``Watch``; ``publish`` wakes every
  watch of that id. The store publishes after each write it commits (``ApprovalStore(on_change=...)``); it runs
  in threads (``asyncio.to_thread``), so ``publish`` is thread-safe: it hands the wake-up to each waiter's event
  loop (``loop.call_soon_threadsafe``). That alone releases a waiter on one gateway process at once.
- ``Feed``: every change, for a watcher of all approvals (the admin API's event stream): ``ApprovalSignals.feed``
  opens one; each published id arrives in order, ``ANY`` when a notification may have been lost (read again what
  matters), ``CLOSED`` once the signals close (the gateway stops: streams end).
- ``PostgresListener``: across processes. The store sends ``NOTIFY`` on ``NOTIFY_CHANNEL`` with the id as its
  payload in the very transaction that writes the change, so it is delivered on commit, and only if committed.
  The listener ``LISTEN``s on its own connection and feeds what arrives into the in-process signals; when its
  connection drops it reconnects with backoff and then wakes every waiter (a notification sent meanwhile is
  lost), and waiters re-read the store every ``poll_interval`` anyway.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Final

import sqlalchemy as sa

from clearance.approvals.store import NOTIFY_CHANNEL

log = logging.getLogger("clearance.approvals")

MIN_BACKOFF: Final = 0.1
MAX_BACKOFF: Final = 5.0


class Watch:
    """One waiter's view of one approval: ``changed`` returns once the approval may have changed since ``arm``."""

    def __init__(self, approval_id: str) -> None:
        self.approval_id = approval_id
        self._loop = asyncio.get_running_loop()
        self._event = asyncio.Event()

    def arm(self) -> None:
        """Forget earlier signals: call it before reading the store, so a change after the read still wakes."""
        self._event.clear()

    async def changed(self, timeout: float) -> bool:
        """Whether a signal came (since ``arm``) within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(max(0.0, timeout)):
                await self._event.wait()
        except TimeoutError:
            return False
        return True

    def _wake(self) -> None:
        """From any thread."""
        with suppress(RuntimeError):  # the waiter's loop is closed: nobody waits any more
            self._loop.call_soon_threadsafe(self._event.set)


ANY: Final = "*"
"""A feed's item when anything may have changed (no approval id is ``*``)."""
CLOSED: Final = ""
"""A feed's last item: the signals closed."""
MAX_FEED_BACKLOG: Final = 1_000
"""Ids a feed holds unread; beyond, they collapse into one ``ANY`` (a reader that slow reads everything again)."""


class Feed:
    """Every approval id published while it is open, for one reader in one event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._items: deque[str] = deque()
        self._ready = asyncio.Event()

    async def next(self, timeout: float) -> str | None:
        """The next id, ``ANY`` or ``CLOSED``; None when nothing came within ``timeout`` seconds."""
        if not self._items:
            self._ready.clear()
            try:
                async with asyncio.timeout(max(0.0, timeout)):
                    await self._ready.wait()
            except TimeoutError:
                return None
        return self._items.popleft()

    def _put(self, item: str) -> None:
        """From any thread."""
        with suppress(RuntimeError):  # the reader's loop is closed: nobody reads any more
            self._loop.call_soon_threadsafe(self._deliver, item)

    def _deliver(self, item: str) -> None:
        items = self._items
        if items and items[-1] == CLOSED:
            return  # nothing after the end
        if item == CLOSED:
            items.append(item)
        elif item == ANY or len(items) >= MAX_FEED_BACKLOG:
            items.clear()
            items.append(ANY)
        elif not (item in items or (items and items[0] == ANY)):
            items.append(item)  # an id unread already, or after ANY (read later, so read as it is then), is read once
        self._ready.set()


class ApprovalSignals:
    """In-process release signals, keyed by approval id. Safe to publish from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._watches: dict[str, set[Watch]] = {}
        self._feeds: set[Feed] = set()
        self._closed = False

    @contextmanager
    def watch(self, approval_id: str) -> Iterator[Watch]:
        """A watch on ``approval_id`` for as long as the block runs (in the event loop that waits)."""
        watch = Watch(approval_id)
        with self._lock:
            self._watches.setdefault(approval_id, set()).add(watch)
        try:
            yield watch
        finally:
            with self._lock:
                watches = self._watches.get(approval_id)
                if watches is not None:
                    watches.discard(watch)
                    if not watches:
                        del self._watches[approval_id]

    @contextmanager
    def feed(self) -> Iterator[Feed]:
        """A feed of every change for as long as the block runs (in the event loop that reads it); it ends at once
        (``CLOSED``) when the signals closed already."""
        feed = Feed()
        with self._lock:
            self._feeds.add(feed)
            closed = self._closed
        if closed:
            feed._deliver(CLOSED)
        try:
            yield feed
        finally:
            with self._lock:
                self._feeds.discard(feed)

    def publish(self, approval_id: str) -> None:
        """Approval ``approval_id`` changed: wake whoever waits on it, and tell every feed."""
        with self._lock:
            watches = list(self._watches.get(approval_id, ()))
            feeds = list(self._feeds)
        for watch in watches:
            watch._wake()
        for feed in feeds:
            feed._put(approval_id)

    def publish_all(self) -> None:
        """Anything may have changed (a notification may have been lost): wake every waiter to read again."""
        with self._lock:
            watches = [w for ws in self._watches.values() for w in ws]
            feeds = list(self._feeds)
        for watch in watches:
            watch._wake()
        for feed in feeds:
            feed._put(ANY)

    def close(self) -> None:
        """The gateway stops: every feed, open or opened later, ends (waiters on one approval are not affected)."""
        with self._lock:
            self._closed = True
            feeds = list(self._feeds)
        for feed in feeds:
            feed._put(CLOSED)

    @property
    def feeds(self) -> int:
        """How many feeds are open."""
        with self._lock:
            return len(self._feeds)

    @property
    def waiting(self) -> int:
        """How many watches are open."""
        with self._lock:
            return sum(len(ws) for ws in self._watches.values())


def libpq_conninfo(url: str) -> str:
    """The SQLAlchemy URL of a PostgreSQL database (``postgresql+psycopg://...``) as psycopg connects to it."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresListener:
    """``LISTEN``s on ``NOTIFY_CHANNEL`` and publishes every id that arrives into ``signals``; run it as a task."""

    def __init__(self, url: str, signals: ApprovalSignals) -> None:
        self._conninfo = libpq_conninfo(url)
        self._signals = signals
        self.listening = asyncio.Event()
        """Set while the listener's ``LISTEN`` is in place (tests and benchmarks wait for it)."""
        self.connections = 0
        """How many times it connected (reconnections included)."""
        self.backend_pid: int | None = None
        """The database server process of the current connection."""

    async def run(self) -> None:
        """Listen until cancelled, reconnecting with backoff after any failure."""
        import psycopg  # here, not at the top: a gateway on SQLite never loads the driver (about 20 MB resident)

        backoff = MIN_BACKOFF
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as connection:
                    await connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.backend_pid = connection.info.backend_pid
                    self.connections += 1
                    self.listening.set()
                    if self.connections > 1:
                        self._signals.publish_all()  # what was sent while we were away is lost: read again
                    backoff = MIN_BACKOFF
                    async for notification in connection.notifies():
                        self._signals.publish(notification.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("approval listener lost its connection", extra={"error": type(exc).__name__})
            self.listening.clear()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
