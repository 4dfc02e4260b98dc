"""Reason codes: one list, stable snake_case codes, each documented."""

from __future__ import annotations

from pathlib import Path

from clearance.policy import reasons as R

DOCS = Path(__file__).parents[2] / "docs" / "policy.md"


def test_every_code_is_listed_once_and_snake_case() -> None:
    constants = {value for name, value in vars(R).items() if name.isupper() and isinstance(value, str)}
    assert constants == set(R.ALL)
    assert len(R.ALL) == len(set(R.ALL))
    assert all(code.replace("_", "").isalpha() and code.islower() for code in R.ALL)


def test_every_code_is_in_the_docs_table() -> None:
    table = [line for line in DOCS.read_text().splitlines() if line.startswith("| `")]
    documented = [line.split("`")[1] for line in table]
    assert [code for code in R.ALL if code in documented] == list(R.ALL)
