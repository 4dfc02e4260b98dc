from __future__ import annotations

import pytest

from clearance.detect.builtin.iban import IbanDetector
from clearance.detect.scanner import Scanner
from tests.detect.helpers import DIGIT_FORMS, HIDDEN, SEPARATORS, covered, grouped, in_form, interleaved, values

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


# ---- evasions, through clearance.scan: the finding covers the whole disguised value

_EVADED_IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606"]


@pytest.mark.parametrize(
    "separator", [*SEPARATORS.values(), " ", "-", " - "], ids=[*SEPARATORS, "space", "dash", "spaced dash"]
)
@pytest.mark.parametrize("iban", _EVADED_IBANS)
def test_when_an_ibans_groups_are_joined_by_any_separator_then_it_is_found_whole(iban: str, separator: str) -> None:
    value = grouped(iban, (4,) * 8, separator)
    assert covered(f"pay to {value} today", value, "IBAN_CODE")


@pytest.mark.parametrize("separator", ["", " ", "-", "|", "\u00b7"])
@pytest.mark.parametrize("iban", _EVADED_IBANS)
def test_when_an_iban_is_in_lower_case_then_it_is_found_whole(iban: str, separator: str) -> None:
    value = grouped(iban.lower(), (4,) * 8, separator)
    assert covered(f"pay to {value} today", value, "IBAN_CODE")


@pytest.mark.parametrize("separator", [" ", ".", "-", "\u200a"])
def test_when_every_character_of_an_iban_is_separated_then_it_is_found_whole(separator: str) -> None:
    value = separator.join("GB82WEST12345698765432")
    assert covered(f"iban {value}", value, "IBAN_CODE")


@pytest.mark.parametrize("form", [f for f in DIGIT_FORMS if in_form("GB82WEST12345698765432", f)])
def test_when_an_ibans_characters_are_in_a_compatibility_form_then_it_is_found_whole(form: str) -> None:
    value = in_form("GB82 WEST 1234 5698 7654 32", form)
    assert value is not None
    assert covered(f"pay to {value} today", value, "IBAN_CODE")


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize("written", ["GB82WEST12345698765432", "DE89 3704 0044 0532 0130 00"])
def test_when_an_invisible_character_is_between_every_character_then_the_iban_is_found_whole(
    written: str, hidden: str
) -> None:
    value = interleaved(written, hidden)
    assert covered(f"pay to {value} today", value, "IBAN_CODE")


@pytest.mark.parametrize(
    "text",
    [
        "De89370400440532013000",  # mixed case: neither written by hand nor by a program
        "de89 3704 0044 0532 0130 01",  # mod 97 fails in lower case too
        "de89-3704-0044 0532-0130-00",  # two separators
        "at 10 am we met in de 12 rooms of the old inn at 20",  # prose: lower-case words and numbers
        "sha256 de89370400440532013000ab",  # too long for its country
    ],
)
def test_when_text_only_looks_like_an_iban_then_none_is_found(text: str) -> None:
    assert [f for f in Scanner().scan(text) if f.type == "IBAN_CODE"] == []
