"""Phone numbers are valid per phonenumbers, in many countries and habits, extensions included."""

from __future__ import annotations

import random
import re

import phonenumbers

from bench.heldout import checks, phones


def test_every_region_yields_valid_numbers() -> None:
    for region in phones.REGIONS:
        for seed in range(20):
            number = phones.number(random.Random(seed), region)
            assert phonenumbers.is_valid_number(number)
            assert phonenumbers.region_code_for_number(number) == region


def test_written_numbers_parse_back_valid() -> None:
    for seed in range(400):
        assert checks.phone_ok(phones.any_phone(random.Random(seed)))


def test_us_numbers_with_extensions_keep_the_extension() -> None:
    shapes = set()
    for seed in range(200):
        text = phones.us(random.Random(seed), with_extension=True)
        assert re.search(r" (x|ext\.? |Ext\. )\d{1,4}$", text)
        assert phonenumbers.parse(text, "US").extension
        shapes.add(re.sub(r"\d", "9", text.split(" x")[0].split(" ext")[0].split(" Ext")[0]))
    assert "999.999.9999" in shapes


def test_compact_national_numbers_are_digits_only() -> None:
    with_trunk = 0
    for seed in range(200):
        text = phones.foreign(random.Random(seed), compact=True)
        assert text.isdigit()
        with_trunk += text.startswith("0")
        assert checks.phone_ok(text)
    assert with_trunk > 100
