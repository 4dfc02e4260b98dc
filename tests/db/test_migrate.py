"""One Alembic history for every table; databases made by the release before ``clearance.db`` upgrade in place.

The upgrade tests open a database as that release left it (``fixtures/``, made by its own code: see the README
there) with today's code, the way a gateway starting on it does, and check that every row is still there and
still works: the audit records read back, the sequence of record ids goes on, an existing API key authenticates
and a revoked one stays revoked.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, select

from clearance.audit.store import SqlAuditStore
from clearance.auth.errors import API_KEY_EXPIRED, API_KEY_REVOKED
from clearance.auth.key_auth import ApiKeyAuthenticator
from clearance.auth.keys import ApiKeyStore
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.db.tables import audit_records, heartbeats
from clearance.exceptions import ClearanceError
from clearance.models import AuditRecord
from tests.conftest import POSTGRES_ADMIN_URL

FIXTURES = Path(__file__).with_name("fixtures")
RELEASE_REVISION = "0004"
DUMPED_SCHEMA = "clearance_release_fixture_dbhelper"
CREATED = 1_764_000_000.0


@dataclass(frozen=True)
class ReleaseDatabase:
    url: str
    active_key: str
    revoked_key: str
    expired_key: str


@pytest.fixture
def release_sqlite(tmp_path: Path) -> ReleaseDatabase:
    """A copy of the SQLite file the release made (the fixture itself is never written)."""
    path = tmp_path / "clearance-audit.db"
    shutil.copyfile(FIXTURES / "release-0.1.sqlite", path)
    return ReleaseDatabase(
        url=f"sqlite:///{path}",
        active_key="clr_c1a8f7539c92_sdPL7XXivP76L9CjeHafw7OeNTXH5NjYm-eBmapapCk",
        revoked_key="clr_1d36b57c47ec_I2HLSPWXOtHStzvNFeGqA_E8pc7inw7O-4xxkL_B-OA",
        expired_key="clr_b376709cfc21_fFHCeyV32oe0ndhbRTowO0koURbgZNMXfL-QLTil2EQ",
    )


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def release_postgres() -> Iterator[ReleaseDatabase]:
    """The release's PostgreSQL dump, restored into a schema of its own in the real server, dropped afterwards."""
    schema = f"clearance_release_{uuid.uuid4().hex[:12]}"
    dump = (FIXTURES / "release-0.1.postgres.sql").read_text()
    # psql meta-commands (\restrict) are not SQL; everything else is replayed as pg_dump wrote it
    sql = "\n".join(line for line in dump.splitlines() if not line.startswith("\\"))
    with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True) as connection:
        connection.execute(sql.replace(DUMPED_SCHEMA, schema).encode())
    try:
        yield ReleaseDatabase(
            url=f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}",
            active_key="clr_a59b5b9d402b__hGyUDaE5fVdTIakGqsIR6DC6j0gqkHoWJY9e3egkSQ",
            revoked_key="clr_f4321339fa25_QrEz_50bNIn7I8gK-DrLwvOUJJsHgUY2Rl5duCmfWS4",
            expired_key="clr_cb1f8f7a8311_z-noyBfR_oLoUmBPU58wSomDF4M6AoECqfuaFDvNwwE",
        )
    finally:
        with psycopg.connect(_libpq(POSTGRES_ADMIN_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE'.encode())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def release_database(request: pytest.FixtureRequest) -> ReleaseDatabase:
    database: ReleaseDatabase = request.getfixturevalue(f"release_{request.param}")
    return database


SESSION_FIELDS_BEFORE_0010: dict[str, Any] = {
    "instance": None, "email": None, "groups": None, "auth_method": None, "key_id": None, "user_agent": None,
    "positions": None, "request_text": None, "response_text": None, "truncated": False, "ttft_ms": None,
    "policy_version": None, "detector_version": None,
}  # fmt: skip
"""What a record written before the session record (0010) holds in its columns: nothing, and not truncated."""
EXPECTED_RECORDS: list[dict[str, Any]] = [
    {
        "request_id": "req-allowed", "created_at": datetime.fromtimestamp(CREATED, UTC), "method": "POST",
        "endpoint": "chat.completions", "model": "fake-model", "upstream": "fake", "status": 200,
        "latency_ms": 12.345, "bytes_in": 321, "bytes_out": 654, "stream": False, "prompt_tokens": 11,
        "completion_tokens": 22, "total_tokens": 33, "error_code": None, "subject": "alice@example.com",
        "client_addr": "127.0.0.1", "decision": "allow", "rule": "default", "reasons": ["no_findings"],
        "level": "public", "declared_label": None, "findings": None, "masked_request": None,
        "masked_response": None, "record_mode": "masked",
        "approval_id": None,
    },
    {
        "request_id": "req-masked", "created_at": datetime.fromtimestamp(CREATED + 1, UTC), "method": "POST",
        "endpoint": "chat.completions", "model": "fake-model", "upstream": "fake", "status": 200,
        "latency_ms": 20.5, "bytes_in": 1000, "bytes_out": 2000, "stream": True, "prompt_tokens": 5,
        "completion_tokens": 6, "total_tokens": 11, "error_code": None, "subject": "ci-bot",
        "client_addr": "10.0.0.7", "decision": "mask", "rule": "mask-restricted",
        "reasons": ["restricted_data", "masked"], "level": "restricted", "declared_label": "internal",
        "findings": {"EMAIL_ADDRESS": 2, "US_SSN": 1}, "masked_request": {"EMAIL_ADDRESS": 2, "US_SSN": 1},
        "masked_response": {"EMAIL_ADDRESS": 1}, "record_mode": "full",
        "approval_id": None,
    },
    {
        "request_id": "req-refused", "created_at": datetime.fromtimestamp(CREATED + 2, UTC), "method": "POST",
        "endpoint": "embeddings", "model": None, "upstream": None, "status": 403, "latency_ms": 1.0,
        "bytes_in": 50, "bytes_out": 120, "stream": False, "prompt_tokens": None, "completion_tokens": None,
        "total_tokens": None, "error_code": "policy_denied", "subject": None, "client_addr": None,
        "decision": "block", "rule": None, "reasons": ["secret_found"], "level": None, "declared_label": None,
        "findings": {"AWS_SECRET_KEY": 1}, "masked_request": None, "masked_response": None, "record_mode": None,
        "approval_id": None,
    },
]  # fmt: skip


def _utc(when: datetime) -> datetime:
    """SQLite hands timestamps back without their zone (they were written in UTC); PostgreSQL in its own."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _comparable(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "id"}, "created_at": _utc(row["created_at"])}


EXPECTED_RECORDS = [
    # no policy inputs before 0012, no originals before 0014, no spool key before 0015 (none was ever spooled)
    {
        **record,
        **SESSION_FIELDS_BEFORE_0010,
        "identity_kind": None,
        "policy_model": None,
        "originals_sha256": None,
        "spool_key": None,
    }
    for record in EXPECTED_RECORDS
]


def test_when_a_database_is_new_then_one_history_makes_every_table(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'new.db'}")
    assert migrate.current_revision(engine) is None

    migrate.upgrade(engine)

    assert migrate.current_revision(engine) == migrate.head_revision()
    tables = set(inspect(engine).get_table_names())
    assert tables == {
        "alembic_version",
        "audit_records",
        "heartbeats",
        "clearance_api_keys",
        "approval_requests",
        "approval_transitions",
        "audit_tree_head",
        "audit_leaves",
        "audit_checkpoints",
        "audit_purges",
        "audit_tombstones",
        "audit_originals",
        "audit_reveals",
        "policy_versions",
        "console_signouts",
    }
    engine.dispose()


def test_when_a_database_is_taken_back_to_the_release_then_the_later_tables_go_and_the_rest_stay(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'back.db'}")
    migrate.upgrade(engine)

    migrate.downgrade(engine, RELEASE_REVISION)

    assert migrate.current_revision(engine) == RELEASE_REVISION
    assert set(inspect(engine).get_table_names()) == {
        "alembic_version",
        "audit_records",
        "heartbeats",
        "clearance_api_keys",
    }
    engine.dispose()


def test_when_the_history_is_read_then_it_starts_with_the_release_revisions_under_their_ids() -> None:
    """``alembic_version`` in databases already in use holds these ids: renaming one would strand them."""
    history = ScriptDirectory(str(migrate.MIGRATIONS))

    ids = [script.revision for script in reversed(list(history.walk_revisions()))]

    assert ids[:4] == ["0001", "0002", "0003", RELEASE_REVISION]
    assert ids[-1] == migrate.head_revision()


def test_when_a_database_is_upgraded_twice_then_the_second_is_a_no_op(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'twice.db'}")
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(heartbeats.insert().values(instance="a", seen_at=datetime.now(UTC)))

    migrate.upgrade(engine)

    with engine.connect() as connection:
        assert connection.execute(select(heartbeats.c.instance)).scalars().all() == ["a"]
    engine.dispose()


def test_when_the_release_database_is_opened_then_it_is_at_the_release_revision(
    release_database: ReleaseDatabase,
) -> None:
    engine = create_engine(release_database.url)
    assert migrate.current_revision(engine) == RELEASE_REVISION
    engine.dispose()


async def test_when_the_audit_store_starts_on_a_release_database_then_its_records_are_kept_and_new_ones_follow(
    release_database: ReleaseDatabase,
) -> None:
    store = SqlAuditStore(release_database.url, linger_s=0)
    await store.start()  # what a gateway does first: upgrade in place

    assert migrate.current_revision(store.engine) == migrate.head_revision()
    assert [_comparable(row) for row in reversed(store.recent())] == EXPECTED_RECORDS
    assert await store.writable()
    store.record(AuditRecord(request_id="req-after", started_at=CREATED + 3, endpoint="models", method="GET"))
    await store.flush()
    with store.engine.connect() as connection:
        ids = connection.execute(select(audit_records.c.request_id, audit_records.c.id)).all()
    assert sorted(ids, key=lambda row: row.id) == [
        ("req-allowed", 1), ("req-masked", 2), ("req-refused", 3), ("req-after", 4),
    ]  # fmt: skip
    await store.close()


async def test_when_the_gateway_starts_on_a_release_database_then_its_api_keys_still_authenticate(
    release_database: ReleaseDatabase,
) -> None:
    store = ApiKeyStore(release_database.url)
    keys = ApiKeyAuthenticator(store, last_used_resolution=0, clock=lambda: CREATED + 7200)
    await keys.start()  # upgrades in place, as the gateway's authenticator does

    identity = await keys.authenticate(release_database.active_key)
    assert (identity.subject, identity.kind, identity.groups, identity.name) == (
        "ci-bot", "service", ("ci", "deploy"), f"nightly ({release_database.active_key[4:16]})",
    )  # fmt: skip
    with pytest.raises(ClearanceError) as revoked:
        await keys.authenticate(release_database.revoked_key)
    assert revoked.value.code == API_KEY_REVOKED
    with pytest.raises(ClearanceError) as expired:
        await keys.authenticate(release_database.expired_key)
    assert expired.value.code == API_KEY_EXPIRED

    listed = {(r.owner, r.label, r.groups, r.created_at, r.expires_at, r.revoked_at) for r in store.list()}
    assert listed == {
        ("ci-bot", "nightly", ("ci", "deploy"), CREATED, None, None),
        ("agent", "", (), CREATED + 10, None, CREATED + 30),
        ("old-script", "", ("ops",), CREATED + 20, CREATED + 3600, None),
    }
    await keys.close()  # writes the active key's new last-used time into the upgraded table
    reopened = ApiKeyStore(release_database.url)
    used = {r.owner: r.last_used_at for r in reopened.list()}
    assert used == {"ci-bot": CREATED + 7200, "agent": None, "old-script": None}
    reopened.close()


UPGRADE_AT_THE_SIGNAL = """
import sys, time
from clearance.db import migrate
from clearance.db.engine import make_engine
engine = make_engine(sys.argv[1])
while time.time() < float(sys.argv[2]):
    time.sleep(0.005)
migrate.upgrade(engine)
"""


@pytest.mark.postgres
def test_when_instances_start_together_on_a_new_postgres_database_then_each_upgrade_succeeds(
    postgres_url: str,
) -> None:
    """Instances of a deployment start at once: each one's first upgrade of the empty database must wait for the
    one that migrates it, not race it to ``CREATE TABLE`` (and die of the duplicate). Processes, as instances are,
    each upgrading at the same moment."""
    at = str(time.time() + 3)  # once every process has imported what it needs
    argv = [sys.executable, "-c", UPGRADE_AT_THE_SIGNAL, postgres_url, at]
    processes = [subprocess.Popen(argv, stderr=subprocess.PIPE) for _ in range(4)]
    outcomes = []
    for process in processes:
        try:
            _, err = process.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            _, err = process.communicate()
        outcomes.append((process.returncode, err.decode(errors="replace")[-400:]))
    assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
    engine = create_engine(postgres_url)
    try:
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()
