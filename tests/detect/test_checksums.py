from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.checksums import (
    aba_checksum_valid,
    char_classes,
    iban_mod97_valid,
    luhn_check_digit,
    luhn_valid,
    shannon_entropy,
)


@pytest.mark.parametrize(("digits", "valid"), [("4111111111111111", True), ("4111111111111112", False),
                                               ("79927398713", True), ("0", True)])  # fmt: skip
def test_when_luhn_is_checked_then_the_check_digit_decides(digits: str, valid: bool) -> None:
    assert luhn_valid(digits) is valid


@given(st.text("0123456789", min_size=1, max_size=25))
def test_property_the_check_digit_completes_any_body_and_no_other_digit_does(body: str) -> None:
    digit = luhn_check_digit(body)
    assert luhn_valid(body + digit)
    assert [d for d in "0123456789" if luhn_valid(body + d)] == [digit]


@pytest.mark.parametrize(
    ("iban", "valid"),
    [("DE89370400440532013000", True), ("DE89370400440532013001", False), ("GB82WEST12345698765432", True),
     ("GB82WEST1234569876543!", False)],
)  # fmt: skip
def test_when_an_iban_is_checked_then_mod97_decides(iban: str, valid: bool) -> None:
    assert iban_mod97_valid(iban) is valid


def test_when_aba_and_randomness_are_measured_then_values_are_right() -> None:
    assert aba_checksum_valid("011000015") and not aba_checksum_valid("011000016")
    assert shannon_entropy("") == 0.0 and shannon_entropy("aaaa") == 0.0 and shannon_entropy("ab") == 1.0
    assert char_classes("aB3!") == 4 and char_classes("abc") == 1


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from("aZ09_-é\u00b2 \U0001f600xY"), max_size=20))
def test_property_char_classes_counts_the_ascii_classes_a_value_uses(value: str) -> None:
    expected = sum(
        (
            any("a" <= c <= "z" for c in value),
            any("A" <= c <= "Z" for c in value),
            any("0" <= c <= "9" for c in value),
            any(not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9") for c in value),
        )
    )
    assert char_classes(value) == expected
