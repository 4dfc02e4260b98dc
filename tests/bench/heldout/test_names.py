"""Names of many cultures, with particles, apostrophes, hyphens and accents."""

from __future__ import annotations

import random

from bench.heldout.names import CULTURES, Person, ascii_fold, person


def test_cultures_are_many_and_large() -> None:
    assert len(CULTURES) >= 8
    for givens, families in CULTURES.values():
        assert len(set(givens)) >= 20
        assert len(set(families)) >= 20


def test_the_lists_hold_the_hard_shapes() -> None:
    families = {f for _, fs in CULTURES.values() for f in fs}
    givens = {g for gs, _ in CULTURES.values() for g in gs}
    assert {"O'Brien", "McAllister", "de la Cruz", "van der Berg", "García-Márquez"} <= families
    assert any(not g.isascii() for g in givens)


def test_email_local_parts_are_ascii_and_derived_from_the_name() -> None:
    rng = random.Random(3)
    p = Person("Íñigo", "de la Cruz", "hispanic")
    for _ in range(50):
        local = p.email_local(rng)
        assert local.isascii()
        assert "inigo" in local or "delacruz" in local or local.startswith("i")


def test_full_and_reversed_forms() -> None:
    p = Person("Wei", "Zhang", "chinese")
    assert p.full == "Wei Zhang"
    assert p.reversed == "Zhang, Wei"


def test_person_is_deterministic_per_seed() -> None:
    assert person(random.Random(7)) == person(random.Random(7))
    assert ascii_fold("Søren Dvořák") == "Sren Dvorak"
