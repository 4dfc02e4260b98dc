from __future__ import annotations

import pytest

from clearance.detect.exclusions import Exclusion, ExclusionSet, canonical
from clearance.detect.scanner import Scanner


@pytest.mark.parametrize(
    ("type_", "a", "b"),
    [
        ("CREDIT_CARD", "4111 1111 1111 1111", "4111-1111-1111-1111"),
        ("PHONE_NUMBER", "(415) 555-0100", "+1 415 555 0100"),
        ("IBAN_CODE", "de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("EMAIL_ADDRESS", "Ops@Corp.io", "ops@corp.io"),
    ],
)
def test_when_two_spellings_are_canonicalised_then_they_compare_equal(type_: str, a: str, b: str) -> None:
    assert canonical(type_, a) == canonical(type_, b)


def test_when_a_test_card_is_excluded_then_it_is_not_reported_but_other_cards_are() -> None:
    scanner = Scanner(exclusions=[Exclusion.build(types=["CREDIT_CARD"], values=["4111111111111111"])])
    text = "docs use 4111-1111-1111-1111, the customer paid with 5555 5555 5555 4444"
    assert [text[f.start : f.end] for f in scanner.scan(text)] == ["5555 5555 5555 4444"]


def test_when_the_company_hotline_is_excluded_then_it_is_not_reported() -> None:
    scanner = Scanner(exclusions=[Exclusion.build(types=["PHONE_NUMBER"], values=["+1 415 555 2671"])])
    assert scanner.scan("call us at (415) 555-2671") == []
    assert [f.type for f in scanner.scan("call me at (415) 555-2672")] == ["PHONE_NUMBER"]


def test_when_a_pattern_excludes_a_domain_then_only_that_domain_is_suppressed() -> None:
    exclusions = ExclusionSet([Exclusion.build(patterns=[r".*@ourco\.com"])])
    scanner = Scanner(exclusions=[Exclusion.build(patterns=[r".*@ourco\.com"])])
    assert bool(exclusions)
    text = "from ops@ourco.com to jane@client.io"
    assert [text[f.start : f.end] for f in scanner.scan(text)] == ["jane@client.io"]


def test_when_a_type_is_named_then_other_types_are_not_excluded() -> None:
    exclusion = Exclusion.build(types=["EMAIL_ADDRESS"], values=["123-45-6789"])
    assert not exclusion.matches("US_SSN", "123-45-6789")
