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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("415.555.2671 x204", "415.555.2671 x204"),
        ("415-555-2671x123", "415-555-2671x123"),
        ("(415) 555-2671 ext. 12", "(415) 555-2671 ext. 12"),
        ("(415) 555-2671 ext 5", "(415) 555-2671 ext 5"),
        ("415-555-2671 extension 204.", "415-555-2671 extension 204"),
        ("415 555 2671, ext 12", "415 555 2671, ext 12"),
        ("415-555-2671 EXT: 7", "415-555-2671 EXT: 7"),
        ("tel:+1-415-555-2671;ext=12", "+1-415-555-2671;ext=12"),
        ("+44 20 7946 0958 ext. 3301", "+44 20 7946 0958 ext. 3301"),
        ("020 7946 0958 x44", "020 7946 0958 x44"),
        ("415-555-2671 x 2 times", "415-555-2671"),  # a count, not an extension
        ("415-555-2671 xbox", "415-555-2671"),
        ("415-555-2671 ext 1234567", "415-555-2671"),  # seven digits are no extension
        ("415-555-2671 exterior", "415-555-2671"),
    ],
)
def test_when_an_extension_follows_a_number_then_it_is_part_of_the_finding(text: str, expected: str) -> None:
    assert values(DETECTOR, text, min_score=0.5) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call me on 07911123456", "07911123456"),  # GB mobile
        ("mobile: 015112345678", "015112345678"),  # DE mobile, twelve digits
        ("tel 0612345678", "0612345678"),  # FR and NL mobile
        ("ph 0412345678", "0412345678"),  # AU mobile
        ("phone 0871234567", "0871234567"),  # IE mobile
        ("whatsapp 0821234567", "0821234567"),  # ZA mobile
        ("call 09012345678", "09012345678"),  # JP mobile
        ("tel 0470123456", "0470123456"),  # BE mobile
        ("phone 0791234567", "0791234567"),  # CH mobile
        ("call 087 123 4567", "087 123 4567"),  # a North American shape with a trunk 0 is national
        ("call 090-1234-5678", "090-1234-5678"),
        ("Tel. 08-123 456 78", "08-123 456 78"),  # SE
        ("Sie erreichen mich unter 0312318145.", "0312318145"),  # the phone words of the regions' languages
        ("Telefon: 07400115104", "07400115104"),
        ("joindre au 0612343102", "0612343102"),
        ("móvil 0612343102", "0612343102"),
        ('{"PhoneNumber": "01212308952"}', "01212308952"),  # a camel-case key
        ("promised a call back on\n0412329288", "0412329288"),
    ],
)
def test_when_a_national_number_has_a_phone_word_then_it_is_found(text: str, expected: str) -> None:
    assert [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "PHONE_NUMBER"] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "07911123456",  # bare national digits need a phone word
        "order 015112345678 shipped",
        "invoice #0612345678",
        "ts=1718000000 ms=1718000000123",  # epoch seconds and milliseconds
        "stamp 20241231235959",
        "built 202412312359",
        "id 2024123123595912",
        "total 0412345678.00",
        "ZIP 05930-6590",
        "ref 0004123456",
        "sha 0612345678abc",
        "2024-12-31T23:59:59Z",
    ],
)
def test_when_a_number_is_an_id_amount_or_timestamp_then_it_is_not_a_phone(text: str) -> None:
    assert "PHONE_NUMBER" not in [f.type for f in Scanner().scan(text)]


def test_when_regions_are_given_then_national_numbers_are_read_for_those_regions_only() -> None:
    assert values(PhoneNumberDetector(("JP",)), "03-1234-5678") == ["03-1234-5678"]
    assert values(PhoneNumberDetector(("GB",)), "03-1234-5678") == []
