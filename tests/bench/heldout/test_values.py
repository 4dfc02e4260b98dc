"""Generated values are what their labels say: issuer ranges and Luhn, SSA rules, ABA and IBAN checksums."""

from __future__ import annotations

import ipaddress
import random

import pytest

from bench.heldout import checks, values

SEEDS = range(300)


@pytest.mark.parametrize(("network", "lengths"), [(n, lengths) for n, _, lengths in values.CARD_NETWORKS])
def test_every_network_issues_every_length_it_claims(network: str, lengths: tuple[int, ...]) -> None:
    seen = set()
    for seed in SEEDS:
        digits = values.card_digits(random.Random(seed), network)
        assert values.luhn_ok(digits)
        assert checks.card_ok(digits)
        seen.add(len(digits))
    assert seen == set(lengths)


def test_cards_cover_twelve_to_nineteen_digits() -> None:
    lengths = {len(checks.digits_of(values.card(random.Random(s)))) for s in range(3000)}
    assert lengths == set(range(12, 20))


@pytest.mark.parametrize(("digits", "expected"), [("4111111111111111", True), ("4111111111111112", False)])
def test_luhn(digits: str, expected: bool) -> None:
    assert values.luhn_ok(digits) is expected


def test_card_groups_follow_the_issuers_print() -> None:
    assert values.group("378282246310005", values.card_groups(15), " ") == "3782 822463 10005"
    assert values.group("30569309025904", values.card_groups(14), "-") == "3056-930902-5904"


def test_ssns_follow_the_ssa_rules() -> None:
    for seed in SEEDS:
        rng = random.Random(seed)
        assert checks.ssn_ok(values.ssn(rng))
        assert checks.ssn_ok(values.ssn_digits(rng))


def test_routing_numbers_pass_the_aba_checksum() -> None:
    for seed in SEEDS:
        number = values.aba(random.Random(seed))
        assert checks.aba_checked(number)
    assert values.aba_ok("021000021")  # a published routing number


def test_bank_accounts_are_never_a_routing_number_or_a_card() -> None:
    for seed in range(2000):
        number = values.bank_account(random.Random(seed))
        assert 8 <= len(number) <= 17
        assert not (len(number) == 9 and values.aba_ok(number))
        assert not (len(number) >= 12 and values.luhn_ok(number))


def test_ibans_pass_mod_97_in_every_country() -> None:
    countries = set()
    for seed in range(1000):
        iban = values.iban(random.Random(seed))
        assert checks.iban_ok(iban)
        countries.add(iban[:2])
    assert countries == set(values.IBAN_LAYOUTS)
    assert checks.iban_ok("GB82 WEST 1234 5698 7654 32")  # the registry's own example


def test_addresses_are_valid_and_not_documentation_ranges() -> None:
    for seed in SEEDS:
        rng = random.Random(seed)
        for addr in (values.ipv4(rng), values.ipv6(rng)):
            assert checks.ip_ok(addr)
            ipaddress.ip_address(addr)


def test_emails_are_deliverable_shapes() -> None:
    for seed in SEEDS:
        assert checks.email_ok(values.email(random.Random(seed)))


def test_url_safe_passwords_can_sit_in_a_urls_user_info() -> None:
    for seed in SEEDS:
        password = values.password(random.Random(seed), url_safe=True)
        assert not set(password) & set("@:/?#%")
        assert password[0].isalnum()


def test_generic_keys_are_long_and_varied() -> None:
    for seed in SEEDS:
        key = values.generic_key(random.Random(seed))
        assert len(key) >= 28
        assert len(set(key)) >= 10
