"""`clearance audit keygen|verify`, as an auditor runs them: a key pair, then a trail checked offline."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from typer.testing import CliRunner

from clearance.audit.checkpointer import Checkpointer
from clearance.audit.export import DirectoryExport
from clearance.audit.note import Ed25519NoteSigner, NoteVerifier
from clearance.audit.store import SqlAuditStore
from clearance.cli import app
from clearance.db.tables import audit_records
from tests.audit.conftest import ORIGIN, make_signer, trail_record


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
