from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.builtin.card import CreditCardDetector, card_brand
from clearance.detect.checksums import luhn_check_digit, luhn_valid
from clearance.detect.scanner import Scanner
from tests.detect.helpers import DIGIT_FORMS, HIDDEN, SEPARATORS, covered, found, grouped, in_form, interleaved, values

DETECTOR = CreditCardDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("visa 4111 1111 1111 1111 ok", "4111 1111 1111 1111"),
        ("visa 4111-1111-1111-1111.", "4111-1111-1111-1111"),
        ("visa 4111111111111111", "4111111111111111"),
        ("visa13 4222222222222", "4222222222222"),
        ("visa19 4111 1111 1111 1111 003", "4111 1111 1111 1111 003"),
        ("mastercard 5555 5555 5555 4444", "5555 5555 5555 4444"),
        ("mastercard 2-series 2221 0000 0000 0009", "2221 0000 0000 0009"),
        ("mastercard 2-series 2720 9900 0000 0007", "2720 9900 0000 0007"),
        ("amex 3782 822463 10005", "3782 822463 10005"),
        ("amex 378282246310005", "378282246310005"),
        ("discover 6011 1111 1111 1117", "6011 1111 1111 1117"),
        ("diners 3056 930902 5904", "3056 930902 5904"),
        ("jcb 3530 1113 3330 0000", "3530 1113 3330 0000"),
        ("unionpay 6200 0000 0000 0005", "6200 0000 0000 0005"),
        ("mixed separators 4111 1111-1111.1111", "4111 1111-1111.1111"),
        ("any separators, mixed 4111-1111.1111_1111", "4111-1111.1111_1111"),
        ("any separators, mixed 4111/1111|1111:1111.", "4111/1111|1111:1111"),
        ("(4111 1111 1111 1111)", "4111 1111 1111 1111"),
    ],
)
def test_when_a_valid_card_is_written_then_it_is_found_whole(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "not luhn 4111 1111 1111 1112",
        "non-Luhn 16 digits 1234567812345678",
        "unknown prefix 1111 1111 1111 1117",
        "mastercard range ends at 2720: 2721 0000 0000 0007",
        "too long 41111111111111111110000",
        "glued to a token x4111111111111111",
        "inside a UUID 123e4567-e89b-12d3-a456-411111111111",
        "order 1234-4111-1111-1111-1111",
        "timestamp 2024-01-15T10:23:45.123456",
        "a date 2024-01-15 and 10:23",
        "git sha 4111111111111111a2b3c4d5e6f7a8b9c0d1e2f3",
        "twelve digits 411111111111",
    ],
)
def test_when_a_number_is_not_a_card_then_nothing_is_found(text: str) -> None:
    assert values(DETECTOR, text) == []


@pytest.mark.parametrize(
    "text",
    [
        "ref 12 4111 1111 1111 1111 20245",  # another grouping after the card
        "qty 2 4111 1111 1111 1111",  # a shorter number before it
        "| 2 | 4111 1111 1111 1111 | 2024 |",  # table cells
        "4111 1111 1111 1111, 2024",
        "4111-1111-1111-1111 2024",  # another separator
        "4111 1111 1111 1111 0",  # a stray digit after it is no longer group
        "4111 1111 1111 1111 2024",  # one group after it: an expiry, a year
        "4111 1111 1111 1111 12",
    ],
)
def test_when_a_card_is_next_to_another_number_then_only_the_card_is_found(text: str) -> None:
    assert values(DETECTOR, text) == ["4111 1111 1111 1111" if " 1111 1111" in text else "4111-1111-1111-1111"]


@pytest.mark.parametrize(
    "text",
    [
        "tracking 9400 8260 1235 6763 6004 29",  # USPS, 22 digits in fours
        "shipment 9400 8260 1235 6763 6004 2981",
        "1234 4111 1111 1111 1111",  # the card-shaped part at the end
        "acct 0000 4111 1111 1111 1111 00",  # a national account number written in fours (IBAN body)
        "ref 4111-1111-1111-1111-2024-77",  # any separator, used throughout
    ],
)
def test_when_a_card_is_only_part_of_an_evenly_grouped_longer_number_then_it_is_not_a_card(text: str) -> None:
    assert values(DETECTOR, text) == []


@pytest.mark.parametrize(
    ("digits", "brand"),
    [
        ("4111111111111111", "visa"),
        ("2221000000000009", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("1111111111111111", None),
        ("41111111111111", None),  # visa has no 14-digit numbers
    ],
)
def test_when_a_prefix_and_length_are_given_then_the_brand_is_known(digits: str, brand: str | None) -> None:
    assert card_brand(digits) == brand


# (brand prefix, length, grouping) for every supported format.
_FORMATS = [
    ("4", 16, (4, 4, 4, 4)),
    ("4", 13, (4, 4, 5)),
    ("4", 19, (4, 4, 4, 4, 3)),
    ("51", 16, (4, 4, 4, 4)),
    ("2221", 16, (4, 4, 4, 4)),
    ("2720", 16, (4, 4, 4, 4)),
    ("34", 15, (4, 6, 5)),
    ("37", 15, (4, 6, 5)),
    ("6011", 16, (4, 4, 4, 4)),
    ("65", 19, (4, 4, 4, 4, 3)),
    ("36", 14, (4, 6, 4)),
    ("3528", 16, (4, 4, 4, 4)),
    ("62", 19, (4, 4, 4, 4, 3)),
    ("2200", 16, (4, 4, 4, 4)),
]


@st.composite
def _cards(draw: st.DrawFn) -> tuple[str, str]:
    prefix, length, grouping = draw(st.sampled_from(_FORMATS))
    body = prefix + draw(st.text("0123456789", min_size=length - len(prefix) - 1, max_size=length - len(prefix) - 1))
    number = body + luhn_check_digit(body)
    separator = draw(st.sampled_from(["", " ", "-"]))
    groups, pos = [], 0
    for size in grouping:
        groups.append(number[pos : pos + size])
        pos += size
    return number, separator.join(groups)


@settings(max_examples=300, deadline=None)
@given(card=_cards(), before=st.sampled_from(["", "card ", "paid with: ", "(", "\n"]),
       after=st.sampled_from(["", " today", ".", ")", ", thanks"]))  # fmt: skip
def test_property_every_luhn_valid_card_in_every_format_is_found_with_exact_offsets(
    card: tuple[str, str], before: str, after: str
) -> None:
    number, written = card
    assert luhn_valid(number)
    text = before + written + after
    findings = Scanner().scan(text)
    cards = [f for f in findings if f.type == "CREDIT_CARD"]
    assert [(f.start, f.end) for f in cards] == [(len(before), len(before) + len(written))]


# ---- evasions, through clearance.scan: the finding covers the whole disguised value

_EVADED_CARDS = [("4111111111111111", (4, 4, 4, 4)), ("378282246310005", (4, 6, 5)), ("5555555555554444", (4, 4, 4, 4))]


@pytest.mark.parametrize("separator", list(SEPARATORS.values()), ids=list(SEPARATORS))
@pytest.mark.parametrize(("number", "sizes"), _EVADED_CARDS, ids=[n for n, _ in _EVADED_CARDS])
def test_when_a_card_is_grouped_by_any_separator_then_it_is_found_whole(
    number: str, sizes: tuple[int, ...], separator: str
) -> None:
    value = grouped(number, sizes, separator)
    assert covered(f"paid with {value} today", value, "CREDIT_CARD")


@pytest.mark.parametrize("separator", [" ", "  ", "-", ".", "/", ",", "|", "\t", "\u00b7"])
def test_when_every_digit_of_a_card_is_separated_then_it_is_found_whole(separator: str) -> None:
    value = separator.join("4111111111111111")
    assert covered(f"card {value} ok", value, "CREDIT_CARD")


@pytest.mark.parametrize("form", [f for f in DIGIT_FORMS if in_form("4111111111111111", f)])
def test_when_a_cards_digits_are_in_a_compatibility_form_then_it_is_found_whole(form: str) -> None:
    value = in_form("4111 1111 1111 1111", form)
    assert value is not None
    assert covered(f"paid with {value} today", value, "CREDIT_CARD")


@pytest.mark.parametrize("hidden", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize("written", ["4111111111111111", "4111 1111 1111 1111", "3782-822463-10005"])
def test_when_an_invisible_character_is_between_every_character_then_the_card_is_found_whole(
    written: str, hidden: str
) -> None:
    value = interleaved(written, hidden)
    assert covered(f"paid with {value} today", value, "CREDIT_CARD")


@pytest.mark.parametrize(
    "text",
    [
        "2024-01-15 10:23:45.123456, 2024-01-15 10:23:46.000001",  # timestamps
        "version 4.11.1111.1111.1111",  # a dotted version
        "hosts 41.111.111.11 and 111.111.11.41",  # IPv4 addresses
        "id,amount\n4111,1111\n1111,1111",  # a CSV table: rows of two numbers
        "4111,1111,1111,1111,2024,07",  # a CSV row that goes on past the digits of a card
        "order 4111-1111-1111-1111-1234 shipped",  # longer than any card
        "call +1 415 555 2671 or 415.555.2671",  # phone numbers
        "sha 4111_1111_1111_1112",  # the Luhn check fails
        "4111|1111 1111|1111",  # two separators: not one grouping
        "4111/1111-1111_1111/2024",  # mixed separators, but the sequence goes on past the digits of a card
        "v4111-1111.1111_1111",  # mixed separators, glued to a token
    ],
)
def test_when_numbers_only_look_grouped_then_no_card_is_found(text: str) -> None:
    assert [f for f in Scanner().scan(text) if f.type == "CREDIT_CARD"] == []


_ANY_SEPARATOR = st.sampled_from([*SEPARATORS.values(), " ", "-"])
_ANY_HIDDEN = st.lists(st.sampled_from(list(HIDDEN.values())), max_size=2).map("".join)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(card=_cards(), separator=_ANY_SEPARATOR, hidden=st.lists(_ANY_HIDDEN, min_size=40, max_size=40))
def test_property_a_card_with_any_separator_and_invisible_characters_is_found_whole(
    card: tuple[str, str], separator: str, hidden: list[str]
) -> None:
    _, written = card
    regrouped = written.replace(" ", separator).replace("-", separator) if separator else written
    value = "".join(ch + hidden[i] for i, ch in enumerate(regrouped[:-1])) + regrouped[-1]
    assert covered(f"card: {value}.", value, "CREDIT_CARD")


@pytest.mark.parametrize(
    ("digits", "brand"),
    [
        ("501812345673", "maestro"),  # twelve digits: Maestro only
        ("676177777775", "maestro"),
        ("5000123456787", None),  # 5000 is no network's
        ("5060991234567895", "verve"),
        ("6500051234567894", "verve"),
        ("5090001234567897", "elo"),
        ("6062821234567890", "hipercard"),
        ("3841401234567896", "hipercard"),
        ("5019123456789013", "dankort"),
        ("6361234567890129", "interpayment"),
        ("2205123456789014", "borica"),
        ("9860123456789015", "humo"),
        ("100000000000009", "uatp"),
        ("6200000000018", None),  # UnionPay issues no 13-digit numbers
        ("432143214321", None),  # twelve digits of Visa: not a length Visa issues
    ],
)
def test_when_a_network_issues_a_prefix_and_length_then_its_brand_is_known(digits: str, brand: str | None) -> None:
    assert card_brand(digits) == brand


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Maestro 5018 1234 5673", "5018 1234 5673"),
        ("card: 501812345673", "501812345673"),
        ("card number 6761-7777-7775", "6761-7777-7775"),
        ("PAN 630412345674 exp 04/27", "630412345674"),
        ("debit card 5678 1234 5674", "5678 1234 5674"),
        ("UATP card 100000000000009", "100000000000009"),
        ("cc# 5018|1234|5673", "5018|1234|5673"),
    ],
)
def test_when_a_twelve_digit_maestro_or_uatp_number_is_named_a_card_then_it_is_found(text: str, expected: str) -> None:
    assert [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "CREDIT_CARD"] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "order 501812345673",  # a Luhn-valid twelve-digit order number with a Maestro prefix
        "501812345673",
        "invoice 5678-1234-5674 paid",
        "aws account id 5678-1234-5674",  # AWS account ids are twelve digits in groups of four
        "payment ref 5018 1234 5673",  # a payment word names no card
        "card 5018 1234 5675 1234",  # the front of a longer number that fails Luhn
        "user 100000000000009 signed in",  # a numeric id with UATP's prefix
        "ts 1718000000123",  # epoch milliseconds
    ],
)
def test_when_a_twelve_digit_or_id_shaped_number_has_no_card_word_then_it_is_not_a_card(text: str) -> None:
    assert "CREDIT_CARD" not in [f.type for f in Scanner().scan(text)]


def test_when_a_twelve_digit_card_is_found_then_its_base_score_needs_evidence() -> None:
    assert [f.score for f in found(DETECTOR, "501812345673")] == [DETECTOR.evidence_score]
    assert [f.score for f in found(DETECTOR, "5018123456789014")] == [DETECTOR.score]


@pytest.mark.parametrize(
    ("text", "type_"),
    [
        ("'+4915123453990'", "PHONE_NUMBER"),  # a German mobile in E.164 that happens to pass Luhn as a Visa
        ("+4111111111111111", "CREDIT_CARD"),  # sixteen digits: no phone number is that long
        ("+4222222222222", "CREDIT_CARD"),  # no country's valid number
    ],
)
def test_when_digits_follow_a_plus_then_a_valid_international_number_is_a_phone_not_a_card(
    text: str, type_: str
) -> None:
    assert [f.type for f in Scanner().scan(text)] == [type_]
