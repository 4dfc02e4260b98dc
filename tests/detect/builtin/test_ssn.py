from __future__ import annotations

import pytest

from clearance.detect.builtin.ssn import UsSsnDetector, ssa_valid
from clearance.detect.scanner import Scanner
from tests.detect.helpers import DIGIT_FORMS, HIDDEN, SEPARATORS, covered, grouped, in_form, interleaved, values

DETECTOR = UsSsnDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssn 123-45-6789", "123-45-6789"),
        ("SSN: 123 45 6789.", "123 45 6789"),
        ("it is 078-05-1121", "078-05-1121"),
        ("(234-56-7890)", "234-56-7890"),
    ],
)
def test_when_a_formatted_ssn_follows_the_ssa_rules_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text, min_score=0.5) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "912-34-5678",  # area 9xx
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "078-05-1120",  # the Woolworth wallet number, void
        "123-45 6789",  # inconsistent separators
        "1-123-45-6789",  # part of a longer dashed number
        "123-45-6789-01",
        "x123-45-6789",
    ],
)
def test_when_a_number_breaks_the_ssa_rules_or_format_then_it_is_not_an_ssn(text: str) -> None:
    assert values(DETECTOR, text) == []


def test_when_nine_bare_digits_have_no_context_then_they_are_only_a_weak_candidate() -> None:
    scanner = Scanner()
    assert [f.type for f in scanner.scan("order total 123456789 items")] == []
    assert [(f.type, f.start) for f in scanner.scan("SSN: 123456789")] == [("US_SSN", 5)]


@pytest.mark.parametrize(("digits", "valid"), [("123456789", True), ("666123456", False), ("900123456", False)])
def test_when_digits_are_checked_then_ssa_rules_decide(digits: str, valid: bool) -> None:
    assert ssa_valid(digits) is valid


# ---- evasions, through clearance.scan: the finding covers the whole disguised value


@pytest.mark.parametrize("separator", list(SEPARATORS.values()), ids=list(SEPARATORS))
def test_when_an_ssn_is_grouped_by_any_separator_then_it_is_found_whole(separator: str) -> None:
    value = grouped("536904399", (3, 2, 4), separator)
    assert covered(f"his number {value} on file", value, "US_SSN")


@pytest.mark.parametrize("separator", [" ", "-", ".", "/", "|", "\t"])
def test_when_every_digit_of_an_ssn_is_separated_then_context_finds_it_whole(separator: str) -> None:
    value = separator.join("536904399")
    assert covered(f"SSN {value}", value, "US_SSN")


@pytest.mark.parametrize("form", [f for f in DIGIT_FORMS if in_form("536904399", f)])
def test_when_an_ssns_digits_are_in_a_compatibility_form_then_it_is_found_whole(form: str) -> None:
    value = in_form("536-90-4399", form)
    assert value is not None
    assert covered(f"his number {value} on file", value, "US_SSN")


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
def test_when_an_invisible_character_is_between_every_character_then_the_ssn_is_found_whole(hidden: str) -> None:
    value = interleaved("536-90-4399", hidden)
    assert covered(f"his number {value} on file", value, "US_SSN")


@pytest.mark.parametrize(
    "text",
    [
        "at 10:23:45 and 11:45:30",  # times
        "536/90/4399/12",  # one more group joined the same way: part of a longer number
        "year,id,qty,total\n2024,536,90,4399\n",  # a CSV row whose last three numbers have an SSN's shape
        "536_90 4399",  # two separators
        "666|90|4399",  # area 666 is never issued
        "536|00|4399",  # group 00 is never issued
        "5 3 6 9 0 4 3 9 9",  # nine single digits with nothing that says SSN (a Sudoku row, a list)
        "1.2.3.4.5.6.7.8.9",
    ],
)
def test_when_numbers_only_look_like_an_ssn_then_none_is_found(text: str) -> None:
    assert [f for f in Scanner().scan(text) if f.type == "US_SSN"] == []


@pytest.mark.parametrize(
    "text",
    [
        "my social is 123456789",
        "SSN#123456789",
        "ssn: 123456789",
        "soc sec no 123456789",
        "Soc. Sec. #: 123456789",
        "SS no 123456789",
        "social security no. 123456789",
        "SSN/TIN: 123456789",
        "ssn no 123456789",
    ],
)
def test_when_an_ssn_word_is_right_before_bare_digits_then_they_are_an_ssn(text: str) -> None:
    assert [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "US_SSN"] == ["123456789"]


@pytest.mark.parametrize(
    "text",
    [
        "ssn: ORD-123456789",  # glued to an id's prefix
        "ssn on file, order #123456789",
        "ssn on file; ticket 123456789",
        "ssn verified (see id 123456789)",
        "SSN check for ref: 123456789",
        "SSN updated, invoice no. 123456789",
        "social login for order number 123456789",
        "ssn 123456789x",
        "ssn ts 1718000000",  # ten digits: a time
        "social 1718000000123",
        "ssn 12345678901",
    ],
)
def test_when_nine_digits_are_an_id_or_a_time_then_an_ssn_word_near_does_not_make_them_an_ssn(text: str) -> None:
    assert "US_SSN" not in [f.type for f in Scanner().scan(text)]
