"""`clearance audit keygen|verify|purge`, as an auditor runs them: a key pair, a trail checked offline, retention
applied."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update
from typer.testing import CliRunner, Result

from clearance.audit.checkpointer import Checkpointer
from clearance.audit.export import DirectoryExport
from clearance.audit.note import Ed25519NoteSigner, NoteVerifier
from clearance.audit.originals import seal_originals
from clearance.audit.reveals import stored_originals
from clearance.audit.store import SqlAuditStore
from clearance.cli import app
from clearance.db.engine import make_engine
from clearance.db.tables import audit_records
from clearance.exceptions import NotFound
from tests.admin.gateway import POLICY, People, gateway_in_a_thread
from tests.audit.conftest import ORIGIN, make_signer, trail_record
from tests.audit.test_envelope import KEY_2026, keyring
from tests.conftest import gateway_config

SEALED_REQUEST = b'{"messages":[{"role":"user","content":"ssn 536-22-8714"}]}'


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["audit", *args])
    return result.exit_code, result.stdout, result.stderr


async def _trail(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    store = SqlAuditStore(url, linger_s=0)
    await store.start()
    for i in range(6):
        store.record(trail_record(i))
    await store.flush()
    Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(tmp_path / "cp")]).checkpoint()
    await store.close()
    return url


def test_when_a_key_is_generated_then_the_signer_and_its_verifier_are_printed_and_pair_up() -> None:
    code, out, _ = run("keygen", "audit.example.com/clearance")

    signer_line, verifier_line = out.splitlines()
    signer = Ed25519NoteSigner.parse(signer_line)
    assert code == 0
    assert NoteVerifier.parse(verifier_line) == signer.verifier()
    assert signer.name == "audit.example.com/clearance"


def test_when_a_key_name_is_invalid_then_keygen_says_so_and_fails() -> None:
    code, _, err = run("keygen", "bad+name")

    assert code == 2
    assert "malformed_key" in err


async def test_when_the_trail_is_intact_then_verify_says_so_and_exits_zero(tmp_path: Path) -> None:
    url = await _trail(tmp_path)
    key = tmp_path / "verifier.keys"
    key.write_text(f"{make_signer().verifier()}\n")

    code, out, _ = run("verify", "--db", url, "--key", str(key), "--checkpoints", str(tmp_path / "cp"))

    assert code == 0, out
    assert "No finding" in out
    assert "6 records after record id 0, 6 leaves, 1 signed checkpoints" in out


async def test_when_a_record_was_changed_then_verify_names_it_and_exits_one(tmp_path: Path) -> None:
    url = await _trail(tmp_path)
    store = SqlAuditStore(url)
    with store.engine.begin() as c:
        c.execute(update(audit_records).where(audit_records.c.request_id == "req-4").values(decision="allow"))
    store.engine.dispose()

    code, out, _ = run(
        "verify", "--db", url, "--key", str(make_signer().verifier()), "--checkpoints", str(tmp_path / "cp")
    )

    assert code == 1
    finding = next(line for line in out.splitlines() if "modified" in line)
    assert "req-4" in finding


async def test_when_the_verifier_key_is_malformed_then_verify_stops_before_reading(tmp_path: Path) -> None:
    url = await _trail(tmp_path)

    code, out, _ = run("verify", "--db", url, "--key", "someone+zz+nothing")

    assert code == 2
    assert "malformed_key" in out


async def test_when_no_db_is_given_then_verify_reads_the_database_and_the_export_directory_from_the_config(
    tmp_path: Path,
) -> None:
    url = await _trail(tmp_path)
    config = tmp_path / "clearance.yaml"
    config.write_text(
        f"database: {{url: '{url}'}}\n"
        f"audit: {{integrity: {{origin: {ORIGIN}, export: {{directory: '{tmp_path / 'cp'}'}}}}}}\n"
        "upstreams: [{name: u, kind: openai, base_url: 'http://127.0.0.1:9/v1', models: [m]}]\n"
    )

    code, out, err = run("verify", "--config", str(config), "--key", str(make_signer().verifier()))

    assert code == 0, out + err
    assert "00000000000000000006.checkpoint" in out


def _retention_config(tmp_path: Path, url: str, levels: str = "{default: 30d}") -> Path:
    key = tmp_path / "signer.key"
    key.write_text(make_signer().secret_key_string())
    config = tmp_path / "clearance.yaml"
    config.write_text(
        f"database: {{url: '{url}'}}\n"
        f"audit: {{integrity: {{signing_key: {{file: '{key}'}}, export: {{directory: '{tmp_path / 'cp'}'}}}}, "
        f"retention: {{levels: {levels}}}}}\n"
        "upstreams: [{name: u, kind: openai, base_url: 'http://127.0.0.1:9/v1', models: [m]}]\n"
    )
    return config


def _count(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as c:
        count = int(c.execute(select(func.count()).select_from(audit_records)).scalar_one())
    engine.dispose()
    return count


async def test_when_purge_is_a_dry_run_then_it_counts_the_records_due_and_changes_nothing(tmp_path: Path) -> None:
    url = await _trail(tmp_path)  # records of 2023: past 30 days whatever today is
    config = _retention_config(tmp_path, url)

    code, out, err = run("purge", "--config", str(config), "--dry-run")

    assert code == 0, out + err
    assert "would purge 6 records: 6 deleted, 0 kept without their text" in out
    assert _count(url) == 6


async def test_when_purge_runs_then_the_records_due_go_and_verify_reports_them_purged_and_exits_zero(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    store = SqlAuditStore(url, linger_s=0)
    await store.start()
    for i in range(4):  # of 2023: past any rule below whatever today is; one public, two with text
        text = "{}" if i < 2 else None
        store.record(replace(trail_record(i), level="public" if i == 3 else None, request_text=text))
    await store.flush()
    Checkpointer(store.engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(tmp_path / "cp")]).checkpoint()
    await store.close()
    config = _retention_config(tmp_path, url, "{public: 1d, default: {after: 30d, keep_metadata: true}}")

    code, out, err = run("purge", "--config", str(config))
    verified, report, _ = run("verify", "--config", str(config), "--key", str(make_signer().verifier()))

    assert code == 0, out + err
    assert "purged 3 records: 1 deleted, 2 kept without their text" in out
    assert _count(url) == 3
    assert verified == 0, report
    assert "3 records purged under signed tombstone checkpoints (1 deleted, 2 kept without their text)" in report


async def test_when_no_retention_is_configured_then_purge_says_there_is_nothing_to_do(tmp_path: Path) -> None:
    url = await _trail(tmp_path)
    config = tmp_path / "clearance.yaml"
    config.write_text(f"database: {{url: '{url}'}}\n")

    code, _, err = run("purge", "--config", str(config))

    assert code == 2
    assert "no audit.retention rule" in err


async def _sealed_record(url: str) -> int:
    """One record whose originals are sealed under ``k2026`` (the gateway's keyring below); its id."""
    entry = trail_record(1)
    sealed = seal_originals(SEALED_REQUEST, b'{"ok":1}', record_id=entry.request_id, keyring=keyring(), limit=4096)
    store = SqlAuditStore(url, linger_s=0)
    await store.start()
    store.record(replace(entry, originals=sealed.envelope, originals_sha256=sealed.sha256))
    await store.flush()
    (row,) = store.recent(1)
    await store.close()
    return int(row["id"])


@pytest.fixture
async def revealing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[str, People, int]]:
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "no-login"))
    key = tmp_path / "kek"
    key.write_text(base64.b64encode(KEY_2026).decode())
    config = gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": "http://127.0.0.1:9", "models": ["llama-internal"]}],
        policy={"file": str(POLICY)},
        auth={"api_keys": {"enabled": True}},
        audit={"originals": {"encryption": {"active": "k2026", "keys": [{"id": "k2026", "key": {"file": str(key)}}]}}},
    )
    record_id = await _sealed_record(config.database.url)
    with gateway_in_a_thread(config) as (url, served):
        yield url, People.enrol(served, config.database.url), record_id


def _reveal(url: str, people: People, who: str, *args: str) -> Result:
    env = {"COLUMNS": "250", "CLEARANCE_GATEWAY": "", "CLEARANCE_API_KEY": people.keys[who]}
    return CliRunner().invoke(app, ["audit", "reveal", *args, "--gateway", url], env=env)


def test_when_an_auditor_reveals_a_record_then_its_originals_are_printed(
    revealing: tuple[str, People, int],
) -> None:
    url, people, record_id = revealing

    result = _reveal(url, people, "audrey", str(record_id), "--reason", "case 7")

    assert result.exit_code == 0, result.stderr
    assert SEALED_REQUEST.decode() in result.stdout
    assert '{"ok":1}' in result.stdout
    assert "k2026" in result.stdout


def test_when_someone_else_reveals_then_the_refusal_is_printed_and_it_exits_1(
    revealing: tuple[str, People, int],
) -> None:
    url, people, record_id = revealing

    result = _reveal(url, people, "sam", str(record_id), "--reason", "curious")

    assert result.exit_code == 1
    assert "auditor_role_required" in result.stderr
    assert "536-22-8714" not in result.stdout + result.stderr


def test_when_no_reason_is_given_then_nothing_is_sent_and_it_exits_1(revealing: tuple[str, People, int]) -> None:
    url, people, record_id = revealing

    result = _reveal(url, people, "audrey", str(record_id), "--reason", " ")

    assert result.exit_code == 1
    assert "--reason" in result.stderr


async def test_when_a_records_originals_are_erased_then_they_are_gone_and_verify_still_passes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    record_id = await _sealed_record(url)
    engine = make_engine(url)
    Checkpointer(engine, make_signer(), origin=ORIGIN, exports=[DirectoryExport(tmp_path / "cp")]).checkpoint()
    key = tmp_path / "verifier.keys"
    key.write_text(f"{make_signer().verifier()}\n")

    erased = run("erase", "--db", url, str(record_id))
    again = run("erase", "--db", url, str(record_id))
    verified = run("verify", "--db", url, "--key", str(key), "--checkpoints", str(tmp_path / "cp"))
    with pytest.raises(NotFound) as gone:
        stored_originals(engine, record_id)
    engine.dispose()

    assert erased[0] == 0 and f"record {record_id}" in erased[1]
    assert again[0] == 1 and "no originals" in again[2]
    assert verified[0] == 0 and "No finding" in verified[1]
    assert gone.value.code == "originals_erased"
