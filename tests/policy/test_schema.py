"""The policy file's model: shorthand forms, durations, and level checks through the validation context."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clearance.exceptions import ConfigError
from clearance.policy.load import parse_policy
from clearance.policy.schema import ENDPOINT_NAMES, BreakGlassSpec, EscalateSpec, LevelSpec, PolicyFile


def test_when_a_level_is_a_bare_name_then_it_has_no_types() -> None:
    assert LevelSpec.model_validate("internal") == LevelSpec(name="internal")


@pytest.mark.parametrize(
    ("given", "seconds"),
    [(90, 90.0), ("90s", 90.0), ("30m", 1800.0), ("8h", 28800.0), ("1d", 86400.0), ("1.5h", 5400.0)],
)
def test_when_a_grant_duration_is_written_then_it_is_read_in_seconds(given: object, seconds: float) -> None:
    file = PolicyFile.model_validate(
        {
            "version": 1,
            "rules": [{"id": "r", "action": "require_approval", "approval": {"approvers": ["g"], "grant_for": given}}],
        }
    )
    assert file.rules[0].approval is not None
    assert file.rules[0].approval.grant_for == seconds


@pytest.mark.parametrize("given", ["soon", "8 hours", "-1h", 0])
def test_when_a_grant_duration_is_nonsense_then_refused(given: object) -> None:
    with pytest.raises(ValidationError):
        PolicyFile.model_validate(
            {
                "version": 1,
                "rules": [
                    {"id": "r", "action": "require_approval", "approval": {"approvers": ["g"], "grant_for": given}}
                ],
            }
        )


def test_when_levels_are_given_as_context_then_references_are_checked() -> None:
    data: dict[str, Any] = {"version": 1, "clearances": [{"groups": ["g"], "level": "secret"}]}
    PolicyFile.model_validate(data)  # without a context nothing is known to check against
    with pytest.raises(ValidationError, match="unknown level 'secret'"):
        PolicyFile.model_validate(data, context={"levels": ("public", "restricted")})


def test_endpoint_names_are_the_gateway_endpoints() -> None:
    assert "chat.completions" in ENDPOINT_NAMES
    assert "ollama.embed" in ENDPOINT_NAMES


def _approval_rule(**approval: Any) -> dict[str, Any]:
    return {
        "version": 1,
        "rules": [{"id": "r", "action": "require_approval", "approval": {"approvers": ["security"], **approval}}],
    }


def _errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_policy(data)
    return dict(info.value.errors)


def test_when_a_rule_asks_for_reasons_escalation_and_break_glass_then_they_are_read() -> None:
    file = PolicyFile.model_validate(
        _approval_rule(
            reason="both", escalate={"to": ["security-leads"], "after": "15m"}, break_glass={"groups": ["oncall"]}
        )
    )
    approval = file.rules[0].approval
    assert approval is not None
    assert approval.reason == "both"
    assert approval.escalate == EscalateSpec(to=("security-leads",), after=900.0)
    assert approval.break_glass == BreakGlassSpec(groups=("oncall",))


def test_when_a_rule_says_nothing_of_them_then_no_reason_no_escalation_and_no_break_glass() -> None:
    approval = PolicyFile.model_validate(_approval_rule()).rules[0].approval
    assert approval is not None
    assert (approval.reason, approval.escalate, approval.break_glass) == ("none", None, None)


@pytest.mark.parametrize(
    ("approval", "path", "fragment"),
    [
        ({"reason": "sometimes"}, "rules.0.approval.reason", "'none', 'requester', 'approver' or 'both'"),
        ({"escalate": {"to": [], "after": "15m"}}, "rules.0.approval.escalate.to", "at least 1"),
        ({"escalate": {"to": ["leads"], "after": "soon"}}, "rules.0.approval.escalate.after", "like 30m"),
        ({"escalate": {"to": ["leads"]}}, "rules.0.approval.escalate.after", "required"),
        ({"escalate": {"to": ["security"], "after": "15m"}}, "rules.0.approval", "second group"),
        ({"escalate": {"to": ["leads"], "after": "15m", "cc": ["x"]}}, "rules.0.approval.escalate.cc", "unknown"),
        ({"break_glass": {"groups": []}}, "rules.0.approval.break_glass.groups", "at least 1"),
        ({"break_glass": True}, "rules.0.approval.break_glass", "valid dictionary"),
    ],
)
def test_when_the_new_approval_keys_are_wrong_then_each_error_has_its_key_path(
    approval: dict[str, Any], path: str, fragment: str
) -> None:
    errors = _errors(_approval_rule(**approval))
    assert path in errors, errors
    assert fragment in errors[path], errors[path]
