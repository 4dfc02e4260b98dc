"""The policy file's model: shorthand forms, durations, and level checks through the validation context."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clearance.policy.schema import ENDPOINT_NAMES, LevelSpec, PolicyFile


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
