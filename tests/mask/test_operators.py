"""Masking operators: never the value itself, format kept where asked."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.mask import operators


@pytest.mark.parametrize(
    ("value", "entity", "expected"),
    [
        ("4111-1111-1111-1234", "CREDIT_CARD", "XXXX-XXXX-XXXX-1234"),
        ("4111 1111 1111 1234", "CREDIT_CARD", "XXXX XXXX XXXX 1234"),
        ("4111111111111234", "CREDIT_CARD", "XXXXXXXXXXXX1234"),
        ("123-45-6789", "US_SSN", "XXX-XX-6789"),
        ("DE89 3704 0044 0532 0130 00", "IBAN_CODE", "XXXX XXXX XXXX XXXX XX30 00"),
        ("jane.doe@example.com", "EMAIL_ADDRESS", "j***@example.com"),
        ("12345", "US_BANK_NUMBER", "[US_BANK_NUMBER]"),
    ],
)
def test_when_partial_then_tail_and_format_kept(value: str, entity: str, expected: str) -> None:
    assert operators.partial(value, entity) == expected


def test_redact_names_the_type() -> None:
    assert operators.redact("CREDIT_CARD") == "[CREDIT_CARD]"


def test_hash_is_stable_keyed_and_type_scoped() -> None:
    a = operators.keyed_hash("4111111111111111", "CREDIT_CARD", b"k1")
    assert a == operators.keyed_hash("4111111111111111", "CREDIT_CARD", b"k1")
    assert a != operators.keyed_hash("4111111111111111", "CREDIT_CARD", b"k2")
    assert a != operators.keyed_hash("4111111111111112", "CREDIT_CARD", b"k1")
    assert a.startswith("[CREDIT_CARD:")
    assert "4111" not in a


@given(st.text(alphabet="0123456789- ", min_size=9, max_size=40).filter(lambda v: sum(c.isdigit() for c in v) > 8))
def test_partial_never_reveals_more_than_four_digits(value: str) -> None:
    masked = operators.partial(value, "CREDIT_CARD")
    assert sum(c.isdigit() for c in masked) <= operators.PARTIAL_KEEP
    assert len(masked) == len(value)
