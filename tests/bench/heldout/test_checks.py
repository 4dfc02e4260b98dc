"""The independent checks accept real values and reject near misses; the census counts what it should."""

from __future__ import annotations

import pytest

from bench.heldout import checks


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (checks.card_ok, "4111 1111 1111 1111", True),
        (checks.card_ok, "3782 822463 10005", True),
        (checks.card_ok, "4111 1111 1111 1112", False),
        (checks.card_ok, "0000000000000000", False),  # Luhn-valid, no issuer
        (checks.ssn_ok, "536-22-1234", True),
        (checks.ssn_ok, "536221234", True),
        (checks.ssn_ok, "666-22-1234", False),
        (checks.ssn_ok, "536-00-1234", False),
        (checks.ssn_ok, "536-22 1234", False),
        (checks.aba_checked, "021000021", True),
        (checks.aba_checked, "021000022", False),
        (checks.iban_ok, "DE89 3704 0044 0532 0130 00", True),
        (checks.iban_ok, "DE89 3704 0044 0532 0130 01", False),
        (checks.phone_ok, "+44 20 7946 0018", True),
        (checks.phone_ok, "(415) 555-2671 x204", True),
        (checks.phone_ok, "12345", False),
        (checks.email_ok, "priya.raman@brightlane.io", True),
        (checks.email_ok, "jane.doe@example.com", False),
        (checks.ip_ok, "2a02:1810::1", True),
        (checks.ip_ok, "192.0.2.10", False),
        (checks.ip_ok, "256.1.1.1", False),
    ],
)
def test_checks(check: object, value: str, expected: bool) -> None:
    assert callable(check)
    assert check(value) is expected


def test_census_counts_structure_faults() -> None:
    text = "card 4111 1111 1111 1112 and 999"
    record = {
        "kind": "prose",
        "text": text,
        "entities": [{"start": 5, "end": 24, "type": "CREDIT_CARD"}, {"start": 20, "end": 40, "type": "X"}],
        "negatives": [{"start": 29, "end": 32, "kind": "order_number"}, {"start": 4, "end": 9, "kind": "n"}],
    }
    c = checks.census([record])
    assert c.records == 1
    assert c.invalid == {"CREDIT_CARD": 1}
    assert c.out_of_text == 1
    assert c.entity_overlaps == 1
    assert c.negative_overlaps == 2
    assert c.padded == 1
