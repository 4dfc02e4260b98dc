"""``clearance approvals`` against a running gateway on loopback (its admin API, API keys as credentials): each
subcommand's table or line, and a refusal printed with the API's message and code."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from clearance.cli import app, token_file
from tests.admin.gateway import People, admin_config, gateway_in_a_thread

UNREACHABLE = "http://127.0.0.1:9"


@dataclass
class Running:
    url: str
    people: People

    def run(self, who: str | None, *args: str, gateway: str | None = None) -> Result:
        env = {"COLUMNS": "250", "CLEARANCE_GATEWAY": ""}
        env["CLEARANCE_API_KEY"] = self.people.keys[who] if who else ""
        return CliRunner().invoke(app, ["approvals", *args, "--gateway", gateway or self.url], env=env)


@pytest.fixture
def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "no-login"))
    config = admin_config(tmp_path, UNREACHABLE)
    with gateway_in_a_thread(config) as (url, served):
        yield Running(url, People.enrol(served, config.database.url))


def test_when_an_approver_lists_then_a_table_shows_each_pending_approval(running: Running) -> None:
    approval = running.people.approval("sam")
    result = running.run("alice", "list")
    assert result.exit_code == 0, result.output
    assert approval.id in result.output
    assert "secrets-need-approval" in result.output
    assert "GITHUB_TOKEN: 1" in result.output
    assert "0/1" in result.output


def test_when_the_list_has_more_than_a_page_then_the_next_cursor_is_printed(running: Running) -> None:
    for _ in range(3):
        running.people.approval("sam")
    result = running.run("alice", "list", "--limit", "2")
    assert result.exit_code == 0, result.output
    assert "More: --cursor " in result.output
    cursor = result.output.split("More: --cursor ")[1].split()[0]
    rest = running.run("alice", "list", "--limit", "2", "--cursor", cursor)
    assert rest.exit_code == 0, rest.output
    assert "More:" not in rest.output


def test_when_an_approval_is_shown_then_its_facts_preview_and_history_are_printed(running: Running) -> None:
    approval = running.people.approval("sam")
    result = running.run("alice", "show", approval.id)
    assert result.exit_code == 0, result.output
    for text in ("deploy with [GITHUB_TOKEN]", "hotfix", "security", "llama", "History", "sam"):
        assert text in result.output


def test_when_approved_then_the_new_state_is_printed(running: Running) -> None:
    approval = running.people.approval("sam")
    result = running.run("alice", "approve", approval.id, "--reason", "checked")
    assert result.exit_code == 0, result.output
    assert f"Approval {approval.id}: approved (1/1 approvals)" in result.output
    assert running.people.store.get(approval.id).history[-1].reason == "checked"


def test_when_denied_then_the_new_state_is_printed(running: Running) -> None:
    approval = running.people.approval("sam")
    result = running.run("bob", "deny", approval.id, "-r", "no")
    assert result.exit_code == 0, result.output
    assert f"Approval {approval.id}: denied" in result.output


def test_when_the_requester_cancels_then_it_is_cancelled(running: Running) -> None:
    approval = running.people.approval("sam")
    result = running.run("sam", "cancel", approval.id)
    assert result.exit_code == 0, result.output
    assert f"Approval {approval.id}: cancelled" in result.output


def test_when_the_api_refuses_then_its_message_and_code_are_printed_and_it_exits_1(running: Running) -> None:
    approval = running.people.approval("alice")
    result = running.run("alice", "approve", approval.id)
    assert result.exit_code == 1
    assert "someone else must decide it (self_approval, HTTP 403)" in result.output


def test_when_there_is_no_credential_then_it_says_how_to_get_one(running: Running) -> None:
    result = running.run(None, "list")
    assert result.exit_code == 1
    assert "no credential: set CLEARANCE_API_KEY, or run `clearance login`" in result.output


def test_when_no_api_key_is_set_then_the_stored_login_token_is_sent(
    running: Running, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "logged-in"))
    # the gateway takes a clr_ key as a bearer token, so a stored login holding alice's key stands for her login
    token_file.save(
        "work",
        token_file.StoredLogin(
            issuer="https://idp.example",
            client_id="cli",
            token_endpoint="https://idp.example/token",
            scope="openid",
            access_token=running.people.keys["alice"],
            expires_at=4_102_444_800.0,  # 2100: valid, no refresh
        ),
    )
    approval = running.people.approval("sam")
    result = running.run(None, "approve", approval.id, "--profile", "work")
    assert result.exit_code == 0, result.output
    assert running.people.store.get(approval.id).approved_by == ("alice",)


def test_when_the_gateway_cannot_be_reached_then_it_says_so(running: Running) -> None:
    result = running.run("alice", "list", gateway=UNREACHABLE)
    assert result.exit_code == 1
    assert f"cannot reach the gateway at {UNREACHABLE}" in result.output


def test_when_an_auditor_acknowledges_a_break_glass_then_it_is_printed_and_its_review_is_done(
    running: Running,
) -> None:
    glass = running.people.break_glass("olga")
    listed = running.run("audrey", "list", "--state", "all", "--review", "pending")
    assert listed.exit_code == 0, listed.output
    assert glass.id in listed.output
    shown = running.run("audrey", "show", glass.id)
    assert "review pending" in shown.output

    result = running.run("audrey", "acknowledge", glass.id, "--reason", "INC-7 confirmed")

    assert result.exit_code == 0, result.output
    assert f"Approval {glass.id}: break-glass acknowledged by audrey" in result.output
    stored = running.people.store.get(glass.id)
    assert (stored.review, stored.reviewed_by, stored.review_reason) == ("acknowledged", "audrey", "INC-7 confirmed")
    assert "acknowledged by audrey" in running.run("alice", "show", glass.id).output


def test_when_acknowledge_is_given_no_reason_then_the_cli_asks_for_one(running: Running) -> None:
    glass = running.people.break_glass("olga")
    result = running.run("audrey", "acknowledge", glass.id)
    assert result.exit_code == 2
    assert running.people.store.get(glass.id).review == "pending"


def test_when_an_escalating_approval_is_shown_then_its_escalation_is_printed(running: Running) -> None:
    approval = running.people.approval("sam", escalate_to=("security-leads",))
    result = running.run("alice", "show", approval.id)
    assert result.exit_code == 0, result.output
    assert "to security-leads at" in result.output


@pytest.mark.parametrize("pasted", ["{id}/approve?", "{id}/approve#", "apr_{junk}/../{id}/approve?x="])
def test_when_the_id_given_is_pasted_text_with_a_path_then_nothing_is_sent_and_it_exits_1(
    running: Running, pasted: str
) -> None:
    approval = running.people.approval("sam")
    given = pasted.format(id=approval.id, junk="x" * 32)

    result = running.run("alice", "deny", given, "--reason", "no")

    assert result.exit_code == 1
    assert "not an approval id" in result.output
    assert running.people.store.get(approval.id).state == "pending"  # neither denied nor, worse, approved
