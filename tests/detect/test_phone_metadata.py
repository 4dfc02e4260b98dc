from __future__ import annotations

import phonenumbers
import pytest
from faker import Faker

from clearance.detect.phone_metadata import PhoneValidator

VALIDATOR = PhoneValidator()


@pytest.mark.parametrize("locale", ["en_US", "en_GB", "de_DE", "fr_FR", "it_IT", "es_ES", "nl_NL", "en_AU"])
def test_validity_agrees_with_phonenumbers_on_realistic_numbers(locale: str) -> None:
    fake = Faker(locale)
    fake.seed_instance(11)
    region = locale.split("_")[1]
    checked = 0
    for _ in range(150):
        try:
            number = phonenumbers.parse(fake.phone_number(), region)
        except phonenumbers.NumberParseException:
            continue
        digits = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]
        assert VALIDATOR.valid_international(digits) is phonenumbers.is_valid_number(number), digits
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    ("digits", "region", "valid"),
    [("02079460958", "GB", True), ("0301234567", "DE", True), ("0123456789", "FR", True), ("0000000000", "GB", False)],
)
def test_when_a_national_number_is_checked_then_the_trunk_prefix_is_dropped(
    digits: str, region: str, valid: bool
) -> None:
    assert VALIDATOR.valid_national(digits, region) is valid


def test_when_a_country_code_is_unknown_or_a_region_has_no_metadata_then_nothing_is_valid() -> None:
    assert not VALIDATOR.valid_international("999123456789")
    assert not VALIDATOR.valid_for_region("123", "ZZ")
