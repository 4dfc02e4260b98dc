"""Hard negatives look sensitive and are not: no card, SSN or deliverable address hides among them."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable

import pytest

from bench.heldout import checks, negatives, values

SEEDS = range(500)
NUMERIC: list[Callable[[random.Random], str]] = [
    negatives.order_number, negatives.ticket, negatives.tracking_number, negatives.build_number,
    negatives.epoch_seconds, negatives.epoch_millis, negatives.postal_code, negatives.not_luhn_card_like,
]  # fmt: skip


@pytest.mark.parametrize("make", NUMERIC, ids=lambda f: f.__name__)
def test_no_numeric_negative_is_a_card(make: Callable[[random.Random], str]) -> None:
    for seed in SEEDS:
        assert not checks.card_ok(make(random.Random(seed)))


def test_order_numbers_include_luhn_valid_and_leading_zero_ones() -> None:
    made = [negatives.order_number(random.Random(s)) for s in range(2000)]
    digits = [m for m in made if m.isdigit()]
    assert any(values.luhn_ok(m) and len(m) >= 13 for m in digits)
    assert any(m.startswith("0") for m in digits)
    assert any(len(m) == 9 for m in digits)
    assert {len(m) for m in digits} >= {9, 10, 11, 12, 13}


def test_epochs_are_seconds_and_milliseconds_of_recent_years() -> None:
    for seed in SEEDS:
        rng = random.Random(seed)
        assert len(negatives.epoch_seconds(rng)) == 10
        assert len(negatives.epoch_millis(rng)) == 13


def test_invalid_ssns_break_an_ssa_rule() -> None:
    for seed in SEEDS:
        assert not checks.ssn_ok(negatives.invalid_ssn(random.Random(seed)))


def test_example_emails_use_documentation_domains() -> None:
    for seed in SEEDS:
        assert not checks.email_ok(negatives.example_email(random.Random(seed)))


def test_uuids_and_digests_have_their_shapes() -> None:
    for seed in range(100):
        rng = random.Random(seed)
        uuid.UUID(negatives.uuid4(rng))
        assert len(negatives.digest(rng)) in (32, 40, 64)
        assert len(negatives.git_sha(rng)) in (7, 8, 12, 40)


@pytest.mark.parametrize("kind", sorted(negatives.NON_NAMES))
def test_non_names_of_each_kind(kind: str) -> None:
    text, got = negatives.non_name(random.Random(1), kind)
    assert got == kind
    assert text in negatives.NON_NAMES[kind]
