"""The audit store: schema by migration, batched writes that are never dropped."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import create_engine, inspect, text

from clearance.audit.checkpoint import open_checkpoint
from clearance.audit.checkpointer import CheckpointExportConfig, IntegrityConfig
from clearance.audit.export import checkpoint_file_name
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.spool import Spool, SpoolConfig
from clearance.audit.store import SqlAuditStore
from clearance.db import migrate
from clearance.exceptions import AuditUnavailable, ConfigError
from clearance.models import AuditRecord, FindingPosition, Usage
from clearance.secretref import SecretRef
from tests.audit.conftest import ORIGIN, make_signer
from tests.audit.tcp_proxy import TcpProxy
from tests.conftest import POSTGRES_ADMIN_URL


def record(i: int) -> AuditRecord:
    return AuditRecord(
        request_id=f"req-{i}", started_at=1_700_000_000.0 + i, endpoint="chat.completions", method="POST",
        status=200, model="m", upstream="u", latency_ms=1.5, bytes_in=10, bytes_out=20,
        usage=Usage(1, 2, 3),
    )  # fmt: skip


def test_migrations_reach_head_and_use_wal(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'a.db'}")
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}")
    migrate.upgrade(store.engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert {"audit_records", "heartbeats"} <= set(inspect(engine).get_table_names())
    with store.engine.connect() as c:
        assert c.execute(text("PRAGMA journal_mode")).scalar() == "wal"


async def test_records_are_written_and_flushed_on_close(tmp_path: Path) -> None:
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}")
    await store.start()
    for i in range(1200):
        store.record(record(i))
    await store.close()
    reopened = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}")
    rows = reopened.recent(2000)
    assert len(rows) == 1200
    assert rows[0]["request_id"] == "req-1199"
    assert rows[0]["total_tokens"] == 3


async def test_when_a_batch_fails_then_it_is_spooled_and_replayed_not_dropped(tmp_path: Path) -> None:
    failures: list[int] = []
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", retry_s=0.05, on_failure=lambda: failures.append(1))
    await store.start()
    real_insert = store._insert
    calls = {"n": 0}

    def flaky(rows: list[dict[str, Any]], replayed: bool = False) -> list[bytes]:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError("disk on fire")
        return real_insert(rows, replayed)

    store._insert = flaky  # type: ignore[method-assign]
    store.record(record(1))
    await asyncio.wait_for(store.drained(), timeout=5)
    assert len(failures) == 2
    assert [r["request_id"] for r in store.recent()] == ["req-1"]
    await store.close()


@pytest.mark.postgres
async def test_postgres_store(postgres_url: str) -> None:
    store = SqlAuditStore(postgres_url)
    await store.start()
    store.record(record(7))
    await store.flush()
    assert await store.writable()
    assert store.recent(1)[0]["request_id"] == "req-7"
    await store.close()


SESSION = AuditRecord(
    request_id="req-session", started_at=1_700_000_100.0, endpoint="chat.completions", method="POST", status=200,
    model="m", upstream="u", latency_ms=12.3456, stream=True, subject="ci-bot", decision="mask", record_mode="full",
    instance="gw-1:42", email="ci@example.com", groups=("ci", "deploy"), auth_method="api_key",
    key_id="0a1b2c3d4e5f", user_agent="openai-python/1.0 [EMAIL_ADDRESS]",
    positions=(
        FindingPosition("EMAIL_ADDRESS", ("messages", 0, "content"), 5, 22),
        FindingPosition("CREDIT_CARD", ("notes", "<key>"), 0, 19),
    ),
    request_text='{"messages":[{"role":"user","content":"mail <EMAIL_ADDRESS_1>"}]}',
    response_text='{"content":"ok é"}', truncated=True, ttft_ms=3.14159, policy_version="p" * 64,
    detector_version="d" * 64,
)  # fmt: skip
SESSION_ROW = {
    "instance": "gw-1:42", "email": "ci@example.com", "groups": ["ci", "deploy"], "auth_method": "api_key",
    "key_id": "0a1b2c3d4e5f", "user_agent": "openai-python/1.0 [EMAIL_ADDRESS]",
    "positions": [
        {"type": "EMAIL_ADDRESS", "path": ["messages", 0, "content"], "start": 5, "end": 22},
        {"type": "CREDIT_CARD", "path": ["notes", "<key>"], "start": 0, "end": 19},
    ],
    "request_text": '{"messages":[{"role":"user","content":"mail <EMAIL_ADDRESS_1>"}]}',
    "response_text": '{"content":"ok é"}', "truncated": True, "ttft_ms": 3.142, "policy_version": "p" * 64,
    "detector_version": "d" * 64,
}  # fmt: skip


async def round_trip(url: str) -> list[dict[str, object]]:
    store = SqlAuditStore(url, linger_s=0)
    await store.start()
    store.record(SESSION)
    store.record(record(1))
    await store.close()
    reopened = SqlAuditStore(url)
    rows = reopened.recent(2)
    reopened.engine.dispose()
    return rows


async def test_when_a_session_record_is_written_then_every_field_reads_back(tmp_path: Path) -> None:
    newest, session = await round_trip(f"sqlite:///{tmp_path / 'a.db'}")
    assert {k: session[k] for k in SESSION_ROW} == SESSION_ROW
    assert {k: newest[k] for k in SESSION_ROW} == {
        **{k: None for k in SESSION_ROW},
        "truncated": False,
    }  # a record with nothing to say says nothing


@pytest.mark.postgres
async def test_when_a_session_record_is_written_to_postgres_then_every_field_reads_back(postgres_url: str) -> None:
    newest, session = await round_trip(postgres_url)
    assert {k: session[k] for k in SESSION_ROW} == SESSION_ROW
    assert newest["truncated"] is False and newest["positions"] is None


async def test_when_the_store_closes_with_a_signing_key_then_the_last_records_get_a_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARANCE_TEST_AUDIT_KEY", make_signer().secret_key_string())
    integrity = IntegrityConfig(
        signing_key=SecretRef(env="CLEARANCE_TEST_AUDIT_KEY"),
        checkpoint_interval=3600,
        export=CheckpointExportConfig(directory=tmp_path / "cp"),
    )
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", linger_s=0, integrity=integrity)
    await store.start()
    for i in range(4):
        store.record(record(i))
    await store.close()

    note = (tmp_path / "cp" / checkpoint_file_name(4)).read_text()
    assert open_checkpoint(note, [make_signer().verifier()], origin=ORIGIN).size == 4


async def test_when_a_configured_signing_key_is_missing_then_the_store_does_not_start(tmp_path: Path) -> None:
    integrity = IntegrityConfig(signing_key=SecretRef(file=tmp_path / "absent.key"))
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", integrity=integrity)

    with pytest.raises(ConfigError, match=r"absent\.key"):
        await store.start()
    store.engine.dispose()


def spooled_store(url: str, directory: Path, **options: Any) -> SqlAuditStore:
    """A store whose spool lies in ``directory``, retrying the database at once (tests wait on events, not time)."""
    defaults: dict[str, Any] = {"linger_s": 0, "max_batch": 16, "retry_s": 0.02}
    return SqlAuditStore(
        url, spool=SpoolConfig(directory=directory, **options.pop("spool", {})), **{**defaults, **options}
    )


def failing(rows: list[dict[str, Any]], replayed: bool = False) -> NoReturn:
    raise OSError("the database is gone")


async def test_when_a_replay_was_cut_after_inserting_then_the_next_start_writes_each_record_once_in_order(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    down = spooled_store(url, tmp_path / "spool")
    await down.start()
    down._insert = failing  # type: ignore[method-assign]
    receipts = [await down.record_durably(record(i)) for i in range(10)]
    await down.close()  # everything is in the spool, nothing in the store
    assert down.recent(20) == []
    crashed = SqlAuditStore(url)  # a replay that inserted five rows and died before acknowledging them
    spool = Spool.open(tmp_path / "spool", 1 << 20)
    crashed._insert([entry.row for entry in spool.pending(5)], True)
    spool.close()
    restarted = spooled_store(url, tmp_path / "spool")
    await restarted.start()
    await asyncio.wait_for(restarted.drained(), timeout=10)
    rows = restarted.recent(50)
    await restarted.close()
    crashed.engine.dispose()
    assert [r["request_id"] for r in reversed(rows)] == [f"req-{i}" for i in range(10)]  # ids rise in spool order
    assert len({r["spool_key"] for r in rows}) == 10
    # what each caller was given when its record was spooled is what the stored row hashes to
    assert [(r.key, r.leaf_hash) for r in receipts if r is not None] == [
        (row["spool_key"], record_leaf_hash(row)) for row in reversed(rows)
    ]


async def test_when_the_store_is_down_and_the_spool_full_then_records_are_refused_until_it_is_back(
    tmp_path: Path,
) -> None:
    store = spooled_store(f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "spool", spool={"max_bytes": 4096}, retry_s=0)
    await store.start()
    real_insert, real_heartbeat = store._insert, store._heartbeat
    store._insert = failing  # type: ignore[method-assign]
    store._heartbeat = lambda: failing([])  # type: ignore[method-assign]
    refused = None
    for i in range(100):  # 4 KiB holds a dozen of these records
        try:
            await store.record_durably(record(i))
        except AuditUnavailable:
            refused = i
            break
    assert refused is not None and refused > 0
    assert (AuditUnavailable.code, AuditUnavailable.http_status) == ("audit_unavailable", 503)
    assert not store.accepting("secret") and not store.accepting("public")
    assert not await store.writable()
    store._insert, store._heartbeat = real_insert, real_heartbeat  # type: ignore[method-assign]
    await store.record_durably(record(1000))  # the spool is replayed first, then this batch written
    assert store.accepting("secret") and await store.writable()
    await asyncio.wait_for(store.drained(), timeout=10)
    kept = [r["request_id"] for r in reversed(store.recent(200))]
    await store.close()
    assert kept == [f"req-{i}" for i in range(refused)] + ["req-1000"]  # the refused record is the one lost


async def test_when_the_spool_is_full_and_public_traffic_may_be_served_then_only_public_records_pass(
    tmp_path: Path,
) -> None:
    store = spooled_store(
        f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "spool", spool={"max_bytes": 4096, "when_full": "serve_public"}
    )
    await store.start()
    store._insert = failing  # type: ignore[method-assign]
    with pytest.raises(AuditUnavailable):
        for i in range(100):
            await store.record_durably(record(i))
    assert store.accepting("public") and not store.accepting("internal")
    public = dataclasses.replace(record(500), level="public")
    await store.record_durably(public)  # served: its record could not be kept, which this setting accepts
    with pytest.raises(AuditUnavailable):
        await store.record_durably(dataclasses.replace(record(501), level="internal"))
    await store.close()


@pytest.mark.postgres
async def test_when_postgres_goes_away_mid_load_then_every_record_reaches_it_once_in_order(
    postgres_url: str, tmp_path: Path
) -> None:
    proxy = TcpProxy(5432)
    await proxy.start()
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")
    store = spooled_store(url, tmp_path / "spool")
    await store.start()
    for i in range(120):
        if i == 40:
            await proxy.stop()
        if i == 80:
            assert store.spool is not None and not store.spool.empty  # the outage was spooled
            await proxy.start()
        await store.record_durably(record(i))
    await asyncio.wait_for(store.drained(), timeout=30)
    rows = await asyncio.to_thread(store.recent, 500)  # the proxy runs on this loop
    await store.close()
    await proxy.stop()
    assert [r["request_id"] for r in reversed(rows)] == [f"req-{i}" for i in range(120)]


@pytest.mark.postgres
async def test_when_postgres_backends_are_terminated_mid_load_then_no_record_is_lost_or_doubled(
    postgres_url: str, tmp_path: Path
) -> None:
    name = "clearance_spool_" + Path(tmp_path).name[-20:].replace("-", "_")
    store = spooled_store(f"{postgres_url}&application_name={name}", tmp_path / "spool", max_batch=8)
    await store.start()
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    kill = text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :name")

    def terminate() -> int:
        with admin.connect() as connection:
            return int(connection.execute(kill, {"name": name}).scalar() or 0)

    terminated = 0
    for wave in range(6):  # each wave: 40 concurrent requests' records while the store's connections are cut
        writes = [store.record_durably(record(wave * 40 + i)) for i in range(40)]
        _, cut = await asyncio.gather(asyncio.gather(*writes), asyncio.to_thread(terminate))
        terminated += int(cut or 0)
    admin.dispose()
    await asyncio.wait_for(store.drained(), timeout=30)
    rows = store.recent(1000)
    await store.close()
    assert terminated > 0
    assert sorted(r["request_id"] for r in rows) == sorted(f"req-{i}" for i in range(240))
