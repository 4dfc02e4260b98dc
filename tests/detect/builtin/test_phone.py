from __future__ import annotations

import pytest

from clearance.detect.builtin.phone import PhoneNumberDetector
from clearance.detect.scanner import Scanner
from tests.detect.helpers import values

DETECTOR = PhoneNumberDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call +1 (415) 555-2671 now", "+1 (415) 555-2671"),
        ("(415) 555-2671", "(415) 555-2671"),
        ("415.555.2671", "415.555.2671"),
        ("415-555-2671x123", "415-555-2671x123"),  # the extension is part of the number
        ("1-415-555-2671", "1-415-555-2671"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("+442079460958", "+442079460958"),
        ("020 7946 0958", "020 7946 0958"),
        ("+49 30 901820", "+49 30 901820"),
        ("+33 1 23 45 67 89", "+33 1 23 45 67 89"),
        ("001-415-555-2671", "001-415-555-2671"),
        ("+44 (0)20 7946 0958", "+44 (0)20 7946 0958"),  # trunk prefix in parentheses
        ("+49(0)7715 162046", "+49(0)7715 162046"),
    ],
)
def test_when_a_valid_number_is_formatted_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text, min_score=0.5) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15 10:23:45",  # a timestamp
        "at 2020-05-16T11:46:49Z",
        "pi is 3.14159265358979",
        "v1.415.555.2671",  # glued to a version prefix
        "555-555-5555",  # not a valid NANP number
        "05930-6590",  # a ZIP+4 code
        "build 20240115102345",
        "#4155552671",  # an order number
        "+49 0754009171",  # a zero after the country code is not a trunk prefix in E.164
    ],
)
def test_when_a_number_is_a_timestamp_or_id_then_it_is_not_a_phone(text: str) -> None:
    assert values(DETECTOR, text, min_score=0.5) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("phone 4155552671", True),  # bare digits need context
        ("4155552671", False),
        ("order no. 415-555-2671", False),  # negative context
        ("call me at 415-555-2671", True),
    ],
)
def test_when_scanned_then_context_decides_ambiguous_numbers(text: str, found: bool) -> None:
    assert ("PHONE_NUMBER" in [f.type for f in Scanner().scan(text)]) is found
