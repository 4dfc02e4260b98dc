"""`clearance keys create|list|revoke` against a SQLite database, as an operator runs them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clearance.auth.keys import ApiKeyStore
from clearance.cli import app
from clearance.cli.keys import parse_expiry

NOW = 1_800_000_000.0


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'gateway.db'}"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["keys", *args])
    return result.exit_code, result.stdout, result.stderr


def test_when_a_key_is_created_then_it_is_printed_once_and_works_until_revoked(db: str) -> None:
    code, out, err = run("create", "--owner", "ci-bot", "-g", "ci", "-g", "deploy", "--label", "nightly", "--db", db)
    assert code == 0, err
    raw = out.strip()
    assert re.fullmatch(r"clr_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", raw)
    key_id = raw[4:16]
    assert key_id in err and raw not in err

    code, listing, _ = run("list", "--db", db)
    assert code == 0
    assert key_id in listing and "ci-bot" in listing and "ci, deploy" in listing and "active" in listing
    assert raw[17:] not in listing  # the secret never shows again

    store = ApiKeyStore(db)
    found = store.find(raw)
    assert found is not None and found.groups == ("ci", "deploy")

    assert run("revoke", key_id, "--db", db)[0] == 0
    assert "revoked" in run("list", "--db", db)[1]
    code, _, err = run("revoke", key_id, "--db", db)
    assert code == 1 and "no active key" in err
    store.close()


@pytest.mark.parametrize("section", ["database", "audit"])  # audit.url: the older name of database.url
def test_when_the_config_file_names_the_database_then_keys_use_it(tmp_path: Path, section: str) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text(f"{section}:\n  url: sqlite:///{tmp_path / 'audit.db'}\nauth:\n  api_keys:\n    enabled: true\n")

    code, out, err = run("create", "--owner", "agent", "--config", str(config))

    assert code == 0, err
    assert (tmp_path / "audit.db").exists()
    assert out.strip()[4:16] in run("list", "--config", str(config))[1]


def test_when_the_config_file_is_invalid_then_keys_say_so_and_suggest_db(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text("auth:\n  api_keys:\n    enabeld: true\n")

    code, _, err = run("list", "--config", str(config))

    assert code == 1 and "--db" in err


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("never", None),
        ("12h", NOW + 12 * 3600),
        ("90d", NOW + 90 * 86400),
        ("2w", NOW + 14 * 86400),
        ("2030-01-01", 1893456000.0),
        ("2030-01-01T12:00:00+02:00", 1893492000.0),
    ],
)
def test_when_an_expiry_is_given_then_it_becomes_a_timestamp(value: str, expected: float | None) -> None:
    assert parse_expiry(value, now=NOW) == expected


@pytest.mark.parametrize("value", ["soon", "10m", "-1d", "2020-01-01"])
def test_when_an_expiry_is_not_understood_or_past_then_it_is_refused(value: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_expiry(value, now=time.time())
