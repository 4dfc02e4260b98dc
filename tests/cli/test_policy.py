"""``clearance policy check`` and ``clearance policy test``, through the real command line and detection engine."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"
SUPPORT = EXAMPLES / "support-team.yaml"
TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def fields(output: str) -> dict[str, str]:
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in output.splitlines()) if v}


def test_when_a_policy_is_valid_then_check_summarises_it() -> None:
    code, output = run("policy", "check", str(SUPPORT))
    assert code == 0, output
    assert "valid" in output
    for expected in ("restricted", "group:support", "llama-internal", "support-tickets", "unknown identity"):
        assert expected in output


def test_when_a_policy_is_invalid_then_check_lists_every_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "version: 1\nclearances: [{groups: [g], level: secret}]\nrules: [{id: r, action: allow, approval: {}}]\n"
    )
    code, output = run("policy", "check", str(bad))
    assert code == 1
    assert "clearances.0.level" in output
    assert "unknown level 'secret'" in output
    assert "rules.0.approval.approvers" in output


def test_when_support_sends_contact_and_card_then_test_shows_the_masked_text() -> None:
    text = "Customer jane.doe@acme.io paid with 4111-1111-1111-1111"
    code, output = run(
        "policy",
        "test",
        str(SUPPORT),
        text,
        "--user",
        "sam@example.com",
        "--groups",
        "support",
        "--model",
        "llama-internal",
    )
    assert code == 0, output
    shown = fields(output)
    assert shown["decision"] == "mask"
    assert shown["rule"] == "support-tickets"
    assert shown["reasons"] == "matched_rule, restricted_type, clearance_exceeded"
    assert shown["findings"] == "CREDIT_CARD=1, EMAIL_ADDRESS=1"
    assert shown["sent"] == "Customer <EMAIL_ADDRESS_1> paid with XXXX-XXXX-XXXX-1111"
    assert shown["restore"].startswith("yes")
    assert "jane.doe@acme.io" not in output.split("sent:")[1]


def test_when_the_label_is_lower_than_found_then_test_reports_the_mismatch() -> None:
    policy = EXAMPLES / "external-model-public.yaml"
    who = ["--user", "a@example.com", "--groups", "staff"]
    code, output = run(
        "policy", "test", str(policy), "mail jane.doe@acme.io", *who, "--model", "llama-internal", "--label", "Public"
    )
    shown = fields(output)
    assert (code, shown["decision"]) == (0, "block")
    assert "label_mismatch" in shown["reasons"]
    assert shown["level"] == "confidential (declared: public)"
    assert shown["sent"].startswith("(nothing")
    assert "label it confidential" in shown["message"]


def test_when_approval_is_needed_then_test_says_who_approves(tmp_path: Path) -> None:
    request = tmp_path / "request.txt"
    request.write_text(f"deploy with {TOKEN}")
    policy = EXAMPLES / "engineering-secrets-approval.yaml"
    who = ["--user", "e@example.com", "--groups", "engineering,oncall"]
    code, output = run("policy", "test", str(policy), "--file", str(request), *who, "--model", "llama-internal")
    shown = fields(output)
    assert (code, shown["decision"]) == (0, "require_approval")
    assert shown["findings"] == "GITHUB_TOKEN=1"
    assert shown["approval"] == "1 of security, lasting 14400s"
    assert "security" in shown["message"]
    assert TOKEN not in output


def test_when_a_gateway_config_adds_a_detector_then_test_uses_it(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text(
        "detection:\n  custom:\n    - name: employee_id\n      type: EMPLOYEE_ID\n      regex: 'EMP-[0-9]{6}'\n"
    )
    args = ["policy", "test", str(SUPPORT), "ticket from EMP-123456", "--user", "s@example.com", "--groups", "support"]
    code, output = run(*args, "--model", "llama-internal", "--config", str(config))
    shown = fields(output)
    assert (code, shown["findings"], shown["level"]) == (0, "EMPLOYEE_ID=1", "internal")
    assert shown["decision"] == "allow"
    _, without = run(*args, "--model", "llama-internal")
    assert fields(without)["findings"] == "none"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--user", "a@example.com", "--service-account", "bot"], "not both"),
        (["--groups", "support"], "groups need a user"),
        (["some text", "--file", "x.txt"], "not both"),
    ],
)
def test_when_options_contradict_then_test_says_so(extra: list[str], fragment: str) -> None:
    code, output = run("policy", "test", str(SUPPORT), "--model", "llama-internal", *extra)
    assert code == 2
    assert fragment in output


def test_when_the_caller_is_anonymous_then_the_policy_decides_for_anonymous() -> None:
    code, output = run("policy", "test", str(SUPPORT), "hello", "--model", "llama-internal")
    assert (code, fields(output)["reasons"]) == (0, "default_deny, unknown_identity")


def test_when_an_endpoint_is_given_then_test_sends_the_text_where_that_endpoint_carries_it() -> None:
    text = "Customer jane.doe@acme.io paid with 4111-1111-1111-1111"
    who = ["--user", "sam@example.com", "--groups", "support", "--model", "llama-internal"]
    for endpoint in ("embeddings", "completions", "responses", "ollama.chat", "ollama.generate", "ollama.embed"):
        code, output = run("policy", "test", str(SUPPORT), text, *who, "--endpoint", endpoint)
        assert (code, fields(output)["decision"]) == (0, "mask"), (endpoint, output)
        assert "4111-1111-1111-1111" not in output
        assert "jane.doe@acme.io" not in output


def test_when_the_endpoint_is_unknown_then_test_names_the_ones_there_are() -> None:
    code, output = run("policy", "test", str(SUPPORT), "hi", "--model", "llama-internal", "--endpoint", "chat")
    assert code == 2
    assert "chat.completions" in output


def test_when_the_gateway_config_contradicts_the_policy_then_check_with_it_fails_at_the_key(tmp_path: Path) -> None:
    config = tmp_path / "clearance.yaml"
    config.write_text("detection:\n  levels:\n    types: {CREDIT_CARD: public}\n")
    assert run("policy", "check", str(SUPPORT))[0] == 0
    code, output = run("policy", "check", str(SUPPORT), "--config", str(config))
    assert code == 1
    assert "detection.levels.types.CREDIT_CARD" in output
