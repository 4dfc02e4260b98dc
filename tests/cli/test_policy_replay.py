"""``clearance policy replay``: a seeded trail (decisions the example policy made) evaluated again under a changed
policy, through the command line, reading the database."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from typer.testing import CliRunner, Result

from clearance.audit.store import SqlAuditStore
from clearance.cli import app
from tests.audit.conftest import trail_record
from tests.policy.test_replay import new_text, old_text

WEEK = 7 * 86400.0


async def seed(url: str, now: float) -> None:
    """Eight records of engineers on llama-internal as the example policy decided them: five secrets that asked
    for an approval (one of them 8 days old), two allowed, one refused before any decision."""
    store = SqlAuditStore(url, linger_s=0)
    await store.start()
    base = replace(trail_record(0), model="llama-internal", upstream="fake", endpoint="chat.completions",
                   subject="sam", groups=("engineering",), identity_kind="service", auth_method="api_key")  # fmt: skip
    secret = replace(base, decision="require_approval", rule="secrets-need-approval", findings={"GITHUB_TOKEN": 1})
    plain = replace(base, decision="allow", rule="default", findings={"EMAIL_ADDRESS": 1})
    refused = replace(base, decision=None, rule=None, findings={}, status=401)
    old = replace(secret, started_at=now - WEEK - 86400)
    for n, entry in enumerate((old, secret, secret, plain, secret, plain, secret, refused)):
        store.record(replace(entry, request_id=f"req-{n}", started_at=entry.started_at if n == 0 else now - 60 + n))
    await store.flush()
    await store.close()


def replay(tmp_path: Path, policy_text: str, *args: str) -> Result:
    policy = tmp_path / "new.yaml"
    policy.write_text(policy_text)
    db = f"sqlite:///{tmp_path / 'trail.db'}"
    return CliRunner().invoke(
        app, ["policy", "replay", str(policy), "--db", db, "--config", str(tmp_path / "none.yaml"), *args]
    )


async def test_when_the_new_policy_changes_decisions_then_counts_and_examples_are_printed(tmp_path: Path) -> None:
    await seed(f"sqlite:///{tmp_path / 'trail.db'}", time.time())

    result = replay(tmp_path, new_text(), "--since", "7d")

    assert result.exit_code == 3, result.output
    assert "6 recorded decisions evaluated again: 4 would change, 2 would not; 1 records without a decision" in (
        result.output
    )
    assert "require_approval (secrets-need-approval)" in result.output
    assert "mask (default)" in result.output
    assert "2, 3, 5" in result.output  # the first three record ids of the change (record 1 is older than 7d)


async def test_when_the_window_is_wider_then_older_records_count_too(tmp_path: Path) -> None:
    await seed(f"sqlite:///{tmp_path / 'trail.db'}", time.time())

    result = replay(tmp_path, new_text(), "--since", "9d")

    assert "7 recorded decisions evaluated again: 5 would change" in result.output
    assert "1, 2, 3" in result.output


async def test_when_the_policy_is_the_one_that_decided_then_nothing_changes(tmp_path: Path) -> None:
    await seed(f"sqlite:///{tmp_path / 'trail.db'}", time.time())

    result = replay(tmp_path, old_text())

    assert result.exit_code == 0, result.output
    assert "0 would change, 6 would not" in result.output
