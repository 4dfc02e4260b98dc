"""The check both sides of the masking benchmark use: required strings present, forbidden ones absent, and a
failure message that never repeats a forbidden value."""

from __future__ import annotations

import pytest

from bench.expectations import problem

SECRET = "ghp_secretsecretsecret"


@pytest.mark.parametrize(
    ("text", "required", "forbidden", "expected"),
    [
        ("masked [GITHUB_TOKEN] here", ["[GITHUB_TOKEN]"], [SECRET], None),
        (f"raw {SECRET} here", ["raw"], ["other", SECRET], "forbidden value #1 reached the caller"),
        ("nothing", ["[GITHUB_TOKEN]"], [], "the caller did not get '[GITHUB_TOKEN]'"),
        (f"{SECRET} and no mask", ["[GITHUB_TOKEN]"], [SECRET], "forbidden value #0 reached the caller"),
        ("anything", [], [], None),
    ],
)
def test_when_text_is_checked_then_forbidden_wins_and_values_are_named_by_index(
    text: str, required: list[str], forbidden: list[str], expected: str | None
) -> None:
    found = problem(text, required, forbidden, "caller")
    assert found == expected
    assert found is None or SECRET not in found
