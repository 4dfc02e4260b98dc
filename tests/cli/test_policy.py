"""``clearance policy check`` and ``clearance policy test``, driven through the real command line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from clearance.cli import app as clearance_app
from clearance.cli.policy import register
from clearance.models import Finding

EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"
SUPPORT = EXAMPLES / "support-team.yaml"
_PATTERNS = {
    "CREDIT_CARD": r"\b(?:\d{4}[- ]){3}\d{4}\b",
    "EMAIL_ADDRESS": r"\b[\w.]+@[\w.]+\.\w+\b",
    "GITHUB_TOKEN": r"\bghp_[A-Za-z0-9]{36}\b",
}


def scan(text: str) -> list[Finding]:
    """A stand-in for the detection engine."""
    return sorted(Finding(m.start(), m.end(), t) for t, p in _PATTERNS.items() for m in re.finditer(p, text))


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app, scan_factory=lambda: scan)
    return app


def lines(output: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in output.splitlines()) if v}


def test_when_a_policy_is_valid_then_check_summarises_it() -> None:
    result = CliRunner().invoke(clearance_app, ["policy", "check", str(SUPPORT)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output
    for expected in ("restricted", "group:support", "llama-internal", "support-tickets", "unknown identity"):
        assert expected in result.output


def test_when_a_policy_is_invalid_then_check_lists_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nclearances: [{groups: [g], level: secret}]\nrules: [{id: r, action: allow, approval: {}}]\n"
    )
    result = CliRunner().invoke(clearance_app, ["policy", "check", str(bad)])
    assert result.exit_code == 1
    assert "clearances.0.level" in result.output
    assert "unknown level 'secret'" in result.output
    assert "rules.0.approval.approvers" in result.output


def test_when_support_sends_contact_and_card_then_test_shows_the_masked_text(cli: typer.Typer) -> None:
    text = "Customer jane@example.com paid with 4111-1111-1111-1111"
    args = ["policy", "test", str(SUPPORT), text, "--user", "sam@example.com", "--groups", "support"]
    result = CliRunner().invoke(cli, [*args, "--model", "llama-internal"])
    assert result.exit_code == 0, result.output
    shown = lines(result.output)
    assert shown["decision"] == "mask"
    assert shown["rule"] == "support-tickets"
    assert shown["reasons"] == "matched_rule, restricted_type, clearance_exceeded"
    assert shown["findings"] == "CREDIT_CARD=1, EMAIL_ADDRESS=1"
    assert shown["sent"] == "Customer <EMAIL_ADDRESS_1> paid with XXXX-XXXX-XXXX-1111"
    assert shown["restore"].startswith("yes")
    assert "jane@example.com" not in result.output.split("sent:")[1]


def test_when_the_label_is_lower_than_found_then_test_reports_the_mismatch(cli: typer.Typer) -> None:
    policy = EXAMPLES / "external-model-public.yaml"
    who = ["--user", "a@example.com", "--groups", "staff"]
    result = CliRunner().invoke(
        cli,
        [
            "policy",
            "test",
            str(policy),
            "mail jane@example.com",
            *who,
            "--model",
            "llama-internal",
            "--label",
            "Public",
        ],
    )
    shown = lines(result.output)
    assert shown["decision"] == "block"
    assert "label_mismatch" in shown["reasons"]
    assert shown["level"] == "confidential (declared: public)"
    assert shown["sent"].startswith("(nothing")
    assert "label it confidential" in shown["message"]


def test_when_approval_is_needed_then_test_says_who_approves(cli: typer.Typer, tmp_path: Path) -> None:
    request = tmp_path / "request.txt"
    request.write_text("deploy with ghp_" + "a" * 36)
    policy = EXAMPLES / "engineering-secrets-approval.yaml"
    who = ["--user", "e@example.com", "--groups", "engineering,oncall"]
    result = CliRunner().invoke(
        cli, ["policy", "test", str(policy), "--file", str(request), *who, "--model", "llama-internal"]
    )
    shown = lines(result.output)
    assert shown["decision"] == "require_approval"
    assert shown["approval"] == "1 of security, lasting 14400s"
    assert "security" in shown["message"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--user", "a@example.com", "--service-account", "bot"], "not both"),
        (["--groups", "support"], "needs --user"),
        (["some text", "--file", "x.txt"], "not both"),
    ],
)
def test_when_options_contradict_then_test_says_so(cli: typer.Typer, extra: list[str], fragment: str) -> None:
    result = CliRunner().invoke(cli, ["policy", "test", str(SUPPORT), "--model", "llama-internal", *extra])
    assert result.exit_code == 2
    assert fragment in result.output


def test_when_the_caller_is_anonymous_then_the_policy_decides_for_anonymous(cli: typer.Typer) -> None:
    result = CliRunner().invoke(cli, ["policy", "test", str(SUPPORT), "hello", "--model", "llama-internal"])
    shown = lines(result.output)
    assert (shown["decision"], shown["reasons"]) == ("block", "default_deny, unknown_identity")
