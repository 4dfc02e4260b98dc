"""Release signals: in-process wake-ups, published from the store's threads, and PostgreSQL's LISTEN/NOTIFY sent in
the store's own transactions (the real database)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from clearance.approvals.lifecycle import approve, break_glass, new_approval
from clearance.approvals.model import ApprovalRequest, Requester
from clearance.approvals.signals import (
    ANY,
    CLOSED,
    MAX_FEED_BACKLOG,
    ApprovalSignals,
    Feed,
    PostgresListener,
    libpq_conninfo,
)
from clearance.approvals.store import ApprovalStore
from clearance.models import Identity
from clearance.tasks import TaskSet

NOW = 1_800_000_000.0
SECURITY = Identity(subject="sec@example.com", groups=("security",))
BOUND = 10.0
"""Seconds any one wait in these tests may take before it fails."""


def pending(body: str = "0") -> ApprovalRequest:
    return new_approval(
        requester=Requester("eve@example.com", groups=("engineering",)),
        model="m",
        endpoint="chat.completions",
        rule="r",
        reasons=(),
        level="restricted",
        counts={},
        preview="{}",
        body_sha256=body * 64,
        policy_version="v1",
        approvers=("security",),
        approvals_needed=1,
        grant_seconds=60,
        pending_seconds=3600,
        now=NOW,
    )


async def test_when_an_id_is_published_then_only_its_watchers_wake() -> None:
    signals = ApprovalSignals()
    with signals.watch("apr_one") as one, signals.watch("apr_two") as two:
        signals.publish("apr_one")

        assert await one.changed(BOUND)
        assert not await two.changed(0)
    assert signals.waiting == 0


async def test_when_armed_after_a_signal_then_it_is_forgotten_and_the_next_one_wakes() -> None:
    signals = ApprovalSignals()
    with signals.watch("apr_one") as watch:
        signals.publish("apr_one")
        assert await watch.changed(BOUND)
        watch.arm()
        assert not await watch.changed(0)
        signals.publish("apr_one")
        assert await watch.changed(BOUND)


async def test_when_published_from_another_thread_then_the_waiter_wakes_in_its_loop() -> None:
    signals = ApprovalSignals()
    with signals.watch("apr_one") as watch:
        thread = threading.Thread(target=signals.publish, args=("apr_one",))
        thread.start()
        assert await watch.changed(BOUND)
        thread.join(BOUND)


async def test_when_everything_is_published_then_every_waiter_wakes() -> None:
    signals = ApprovalSignals()
    with signals.watch("apr_one") as one, signals.watch("apr_two") as two:
        signals.publish_all()
        assert await one.changed(BOUND) and await two.changed(BOUND)


async def test_when_the_store_commits_a_change_then_it_publishes_the_id(tmp_path: Path) -> None:
    published: list[str] = []
    store = ApprovalStore(f"sqlite:///{tmp_path / 'a.db'}", on_change=published.append)
    store.create_tables()
    approval = pending()

    await asyncio.to_thread(store.create, approval, now=NOW)
    await asyncio.to_thread(store.apply, approval.id, lambda a: approve(a, SECURITY, now=NOW))
    with pytest.raises(Exception, match="approved already"):
        store.apply(approval.id, lambda a: approve(a, SECURITY, now=NOW))  # refused: nothing written, nothing said

    assert published == [approval.id, approval.id]
    store.close()


# -- feeds: every change, for event streams ----------------------------------------------------------------------


async def read(feed: Feed, count: int) -> list[str | None]:
    return [await feed.next(0) for _ in range(count)]


async def test_when_ids_are_published_then_a_feed_reads_each_once_in_order() -> None:
    signals = ApprovalSignals()
    with signals.feed() as feed:
        for approval_id in ("apr_one", "apr_two", "apr_one", "apr_three"):
            signals.publish(approval_id)
        await asyncio.sleep(0)  # the deliveries are handed to the feed's loop

        assert await read(feed, 4) == ["apr_one", "apr_two", "apr_three", None]  # the repeat, unread, is read once
    assert signals.feeds == 0


async def test_when_published_from_another_thread_then_the_feed_reads_it_in_its_loop() -> None:
    signals = ApprovalSignals()
    with signals.feed() as feed:
        thread = threading.Thread(target=signals.publish, args=("apr_far",))
        thread.start()
        thread.join(BOUND)

        assert await feed.next(BOUND) == "apr_far"


async def test_when_everything_is_published_or_the_backlog_overflows_then_the_feed_reads_any_once() -> None:
    signals = ApprovalSignals()
    with signals.feed() as feed:
        signals.publish("apr_one")
        signals.publish_all()
        signals.publish("apr_two")  # read after ANY: covered by reading everything then
        await asyncio.sleep(0)
        assert await read(feed, 2) == [ANY, None]

        for n in range(MAX_FEED_BACKLOG + 1):
            signals.publish(f"apr_{n}")
        await asyncio.sleep(0)
        assert await read(feed, 2) == [ANY, None]


async def test_when_the_signals_close_then_every_feed_ends_even_one_opened_later() -> None:
    signals = ApprovalSignals()
    with signals.feed() as feed:
        signals.publish("apr_one")
        signals.close()
        signals.publish("apr_two")
        await asyncio.sleep(0)
        assert await read(feed, 2) == ["apr_one", CLOSED]
    with signals.watch("apr_one") as watch:  # a request waiting for its decision is not ended by it
        signals.publish("apr_one")
        assert await watch.changed(BOUND)
        with signals.feed() as late:
            assert await late.next(0) == CLOSED


async def test_when_a_break_glass_approval_is_recorded_then_it_is_published(tmp_path: Path) -> None:
    published: list[str] = []
    store = ApprovalStore(f"sqlite:///{tmp_path / 'a.db'}", on_change=published.append)
    store.create_tables()
    oncall = Identity("eve@example.com", groups=("oncall",))  # the requester of pending()
    granted = break_glass(pending(), oncall, "prod down", groups=("oncall",), now=NOW)

    await asyncio.to_thread(store.record_break_glass, granted)

    assert published == [granted.id]
    store.close()


def test_when_the_url_is_sqlalchemys_then_psycopg_gets_the_libpq_form_with_its_options() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dabc"

    assert libpq_conninfo(url) == "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dabc"


@pytest.fixture
def pg_store(postgres_url: str) -> Iterator[ApprovalStore]:
    store = ApprovalStore(postgres_url)
    store.create_tables()
    yield store
    store.close()


async def test_when_another_instance_commits_a_change_then_the_listener_wakes_the_waiter(
    postgres_url: str, pg_store: ApprovalStore
) -> None:
    signals = ApprovalSignals()  # this instance's; the store writes as another instance would (no on_change)
    listener = PostgresListener(postgres_url, signals)
    tasks = TaskSet()
    _ = tasks.spawn(listener.run())
    try:
        async with asyncio.timeout(BOUND):
            await listener.listening.wait()
        approval = pending()
        with signals.watch(approval.id) as watch:
            await asyncio.to_thread(pg_store.create, approval, now=NOW)
            assert await watch.changed(BOUND)  # the creation is announced too
            watch.arm()
            await asyncio.to_thread(pg_store.apply, approval.id, lambda a: approve(a, SECURITY, now=NOW))
            assert await watch.changed(BOUND)
    finally:
        await tasks.cancel_all()


async def test_when_the_transaction_rolls_back_then_nothing_is_notified(
    postgres_url: str, pg_store: ApprovalStore
) -> None:
    signals = ApprovalSignals()
    listener = PostgresListener(postgres_url, signals)
    tasks = TaskSet()
    _ = tasks.spawn(listener.run())
    try:
        async with asyncio.timeout(BOUND):
            await listener.listening.wait()
        approval = pending()
        with signals.watch(approval.id) as watch:
            await asyncio.to_thread(pg_store.create, approval, now=NOW)
            assert await watch.changed(BOUND)  # the creation's own notification, received before going on
            watch.arm()

            def refused(a: ApprovalRequest) -> ApprovalRequest:
                raise RuntimeError("the change fails")

            with pytest.raises(RuntimeError):
                await asyncio.to_thread(pg_store.apply, approval.id, refused)
            # a committed change to another approval afterwards is delivered: ours, had it been sent, came first
            other = pending(body="1")
            with signals.watch(other.id) as later:
                await asyncio.to_thread(pg_store.create, other, now=NOW)
                assert await later.changed(BOUND)
            assert not await watch.changed(0)
    finally:
        await tasks.cancel_all()


async def test_when_the_listeners_connection_is_killed_then_it_reconnects_and_wakes_every_waiter(
    postgres_url: str, pg_store: ApprovalStore
) -> None:
    signals = ApprovalSignals()
    listener = PostgresListener(postgres_url, signals)
    tasks = TaskSet()
    _ = tasks.spawn(listener.run())
    try:
        async with asyncio.timeout(BOUND):
            await listener.listening.wait()
        with signals.watch("apr_waiting") as watch:
            watch.arm()
            async with await psycopg.AsyncConnection.connect(libpq_conninfo(postgres_url), autocommit=True) as admin:
                await admin.execute("SELECT pg_terminate_backend(%s)", (listener.backend_pid,))
            assert await watch.changed(BOUND)  # woken by the reconnection (a notification may have been lost)
        assert listener.connections >= 2
    finally:
        await tasks.cancel_all()


def test_when_a_gateway_runs_on_sqlite_then_the_postgresql_driver_is_never_loaded(tmp_path: Path) -> None:
    """psycopg holds about 20 MB resident; only the PostgreSQL listener needs it (a fresh interpreter: this one
    has loaded it for the tests above)."""
    script = f"""
import sys
from clearance.app import create_app
from clearance.config import parse_config
upstream = {{"name": "u", "kind": "openai", "base_url": "http://127.0.0.1:9/v1", "models": ["m"]}}
create_app(parse_config({{"upstreams": [upstream], "audit": {{"url": "sqlite:///{tmp_path / "audit.db"}"}}}}))
print(sorted(name for name in sys.modules if name.split(".")[0] == "psycopg"))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
