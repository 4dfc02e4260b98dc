from __future__ import annotations

import pytest

from clearance.detect.builtin.iban import IbanDetector
from tests.detect.helpers import values

DETECTOR = IbanDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay DE89 3704 0044 0532 0130 00 today", "DE89 3704 0044 0532 0130 00"),
        ("iban=DE89370400440532013000;", "DE89370400440532013000"),
        ("GB82WEST12345698765432 AND MORE", "GB82WEST12345698765432"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR14 2004 1010 0505 0001 3M02 606"),
        ("NO9386011117947", "NO9386011117947"),
        ("Überweisung an DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),  # after non-ASCII text
    ],
)
def test_when_an_iban_has_its_country_length_and_checksum_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "DE89 3704 0044 0532 0130 01",  # mod 97 fails
        "DE89 3704 0044 0532 0130 0",  # too short for DE
        "DE89 3704 0044 0532 0130 00AB",  # too long for DE
        "ZZ89 3704 0044 0532 0130 00",  # no such country
        "xDE89370400440532013000",  # glued to a token
        "\u00c4DE89370400440532013000",  # glued to a non-ASCII letter
    ],
)
def test_when_an_iban_is_wrong_then_it_is_not_found(text: str) -> None:
    assert values(DETECTOR, text) == []
