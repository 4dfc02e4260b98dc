"""The built-in classification: every built-in type has a level and an operator."""

from __future__ import annotations

from clearance.policy.catalog import DEFAULT_LEVELS, DEFAULT_OPERATORS, FINANCIAL_TYPES, SECRET_TYPES


def test_every_built_in_type_has_exactly_one_level_and_an_operator() -> None:
    placed = [t for _, types in DEFAULT_LEVELS for t in types]
    assert len(placed) == len(set(placed))
    assert set(placed) == set(DEFAULT_OPERATORS)


def test_cards_and_secrets_are_restricted_and_masked_as_documented() -> None:
    restricted = dict(DEFAULT_LEVELS)["restricted"]
    assert set(FINANCIAL_TYPES) | set(SECRET_TYPES) == set(restricted)
    assert {DEFAULT_OPERATORS[t] for t in FINANCIAL_TYPES} == {"partial"}
    assert {DEFAULT_OPERATORS[t] for t in SECRET_TYPES} == {"redact"}
    assert [name for name, _ in DEFAULT_LEVELS] == ["public", "internal", "confidential", "restricted"]
