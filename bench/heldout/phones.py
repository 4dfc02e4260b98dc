"""Phone numbers valid per the ``phonenumbers`` library, written the ways people and systems write them.

A number is drawn by varying the last digits of the library's example numbers for a region and type until the
library calls the result valid; it is then written in one of the region's habitual forms, with an extension
where asked. The whole written number, extension included, is the labelled value.
"""

from __future__ import annotations

import random

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

REGIONS = ("US", "CA", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "BR", "MX", "JP")
TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
US_AREAS = ("212", "305", "312", "415", "469", "503", "512", "617", "646", "702", "720", "773", "804", "919")


def number(rng: random.Random, region: str) -> phonenumbers.PhoneNumber:
    """A valid number of ``region``; North American ones with a real area code and a random exchange."""
    for _ in range(200):
        if region in ("US", "CA"):
            area = rng.choice(US_AREAS) if region == "US" else rng.choice(("416", "604", "514", "403", "613"))
            national = f"{area}{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}{rng.randrange(10000):04d}"
            candidate = phonenumbers.parse(national, region)
        else:
            example = phonenumbers.example_number_for_type(region, rng.choice(TYPES))
            if example is None:
                continue
            digits = str(example.national_number)
            keep = max(2, len(digits) - rng.randint(4, 6))
            varied = digits[:keep] + "".join(str(rng.randrange(10)) for _ in range(len(digits) - keep))
            candidate = phonenumbers.PhoneNumber(
                country_code=example.country_code,
                national_number=int(varied),
                italian_leading_zero=example.italian_leading_zero,
            )
        if phonenumbers.is_valid_number(candidate) and phonenumbers.region_code_for_number(candidate) == region:
            return candidate
    raise RuntimeError(f"no valid number found for {region}")


def extension(rng: random.Random) -> str:
    digits = str(rng.randint(1, 9999))
    return rng.choice((f" x{digits}", f" ext. {digits}", f" ext {digits}", f" x{digits}", f" Ext. {digits}"))


def us(rng: random.Random, with_extension: bool = False) -> str:
    """A North American number in a US habit: parenthesised area, dashes, dots, +1, or a leading 1."""
    parsed = number(rng, rng.choice(("US", "US", "US", "CA")))
    n = str(parsed.national_number)
    area, exchange, line = n[:3], n[3:6], n[6:]
    text = rng.choice((
        f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}", f"+1-{area}-{exchange}-{line}", f"1-{area}-{exchange}-{line}",
        f"+1 ({area}) {exchange}-{line}", f"{area} {exchange} {line}",
    ))  # fmt: skip
    return text + extension(rng) if with_extension else text


def foreign(rng: random.Random, compact: bool | None = None) -> str:
    """A number of another country: international (+CC, 00CC, E.164) or national (a trunk 0, maybe no spaces)."""
    region = rng.choice(REGIONS[2:])
    parsed = number(rng, region)
    style = rng.randrange(5) if compact is None else (4 if compact else rng.randrange(4))
    if style == 0:
        return phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)
    if style == 1:
        return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    if style == 2:
        return "00" + phonenumbers.format_number(parsed, PhoneNumberFormat.INTERNATIONAL)[1:]
    national = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    if style == 3:
        return national
    # Written without separators, as typed into a form: the trunk prefix stays, punctuation goes.
    return "".join(ch for ch in national if ch.isdigit())


def e164(rng: random.Random) -> str:
    parsed = number(rng, rng.choice(REGIONS))
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def any_phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.35:
        return us(rng)
    if roll < 0.5:
        return us(rng, with_extension=True)
    if roll < 0.65:
        return e164(rng)
    return foreign(rng)
