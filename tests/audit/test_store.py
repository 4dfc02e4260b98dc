"""The audit store: schema by migration, batched writes that are never dropped."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from clearance.audit.checkpoint import open_checkpoint
from clearance.audit.checkpointer import CheckpointExportConfig, IntegrityConfig
from clearance.audit.export import checkpoint_file_name
from clearance.audit.store import SqlAuditStore
from clearance.db import migrate
from clearance.exceptions import ConfigError
from clearance.models import AuditRecord, FindingPosition, Usage
from clearance.secretref import SecretRef
from tests.audit.conftest import ORIGIN, make_signer


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


async def test_a_failed_batch_is_retried_not_dropped(tmp_path: Path) -> None:
    failures: list[int] = []
    store = SqlAuditStore(f"sqlite:///{tmp_path / 'a.db'}", retry_s=0.05, on_failure=lambda: failures.append(1))
    await store.start()
    real_insert = store._insert
    calls = {"n": 0}

    def flaky(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise OSError("disk on fire")
        return real_insert(rows)

    store._insert = flaky  # type: ignore[method-assign]
    store.record(record(1))
    await asyncio.wait_for(store.flush(), timeout=5)
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
