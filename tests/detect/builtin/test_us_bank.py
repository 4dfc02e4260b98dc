from __future__ import annotations

import pytest

from clearance.detect.scanner import Scanner
from tests.detect.helpers import DIGIT_FORMS, HIDDEN, SEPARATORS, covered, grouped, in_form, interleaved


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("account number 12345678901", True),
        ("acct #: 00123456789", True),
        ("checking account: 5759781861.", True),
        ("build 12345678901 finished", False),
        ("took 1528487205000 ms", False),
        # The label belongs to the first number: the second one is not an account number.
        ("account number 12345678. see 98765432101", None),
    ],
)
def test_when_scanned_then_bank_numbers_need_an_adjacent_label(text: str, found: bool | None) -> None:
    banks = [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "US_BANK_NUMBER"]
    if found is None:
        assert banks == ["12345678"]
    else:
        assert bool(banks) is found


# ---- evasions, through clearance.scan: the finding covers the whole disguised value


@pytest.mark.parametrize("separator", list(SEPARATORS.values()), ids=list(SEPARATORS))
@pytest.mark.parametrize("sizes", [(4, 4, 4), (3, 3, 3, 3), (1,) * 12], ids=["fours", "threes", "every digit"])
def test_when_an_account_number_is_grouped_by_any_separator_then_its_label_finds_it_whole(
    sizes: tuple[int, ...], separator: str
) -> None:
    value = grouped("123456789012", sizes, separator)
    assert covered(f"account number: {value}", value, "US_BANK_NUMBER")


@pytest.mark.parametrize("form", [f for f in DIGIT_FORMS if in_form("12345678901", f)])
def test_when_an_account_numbers_digits_are_in_a_compatibility_form_then_it_is_found_whole(form: str) -> None:
    value = in_form("12345678901", form)
    assert value is not None
    assert covered(f"acct #: {value}", value, "US_BANK_NUMBER")


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
def test_when_an_invisible_character_is_between_every_digit_then_the_account_number_is_found_whole(
    hidden: str,
) -> None:
    value = interleaved("12345678901", hidden)
    assert covered(f"account number {value}", value, "US_BANK_NUMBER")


@pytest.mark.parametrize(
    "text",
    [
        "account number: 123 456 789 012 345 678",  # 18 digits: too long
        "account number: 192.168.100.200",  # an IPv4 address's shape
        "account number: 415-555-2671",  # uneven groups: a phone number
        "account number: 1234|5678|9012|3456|7890",  # 20 digits: too long
    ],
)
def test_when_a_grouped_number_is_not_an_account_number_then_none_is_found(text: str) -> None:
    assert [f for f in Scanner().scan(text) if f.type == "US_BANK_NUMBER"] == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("account updated at 1718000000123", False),  # epoch milliseconds
        ("account login 1718000000", False),  # epoch seconds
        ("checking sync 20241231235959", False),  # a digit-only datetime stamp
        ("acct created 202412312359", False),
        ("account sync 1718000000123456 us", False),  # epoch microseconds
        ("acct no. 1718000000123", True),  # the label is right before it: the label decides
        ("Account: 1718000000", True),
        ("account # 20241231235959", True),
        ("account updated at 2718000000123", True),  # not a time of these years
        ("account 12345678", True),
    ],
)
def test_when_a_number_reads_as_a_time_then_only_a_label_right_before_makes_it_an_account(
    text: str, found: bool
) -> None:
    assert ("US_BANK_NUMBER" in [f.type for f in Scanner().scan(text)]) is found
