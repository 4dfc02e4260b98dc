from __future__ import annotations

import pytest

from clearance.detect.builtin.ssn import UsSsnDetector, ssa_valid
from clearance.detect.scanner import Scanner
from tests.detect.helpers import values

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
