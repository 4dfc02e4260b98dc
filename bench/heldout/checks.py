"""Independent checks that a labelled value is what its label says, and a ``census`` of a half that reports
counts only (so tests can check the test half's structure without reading its texts).

The checks are written from the standards (ISO/IEC 7812 issuer ranges and Luhn, SSA rules, the ABA checksum,
ISO 13616 mod 97, the ``phonenumbers`` numbering plans, RFC address syntax), not from Clearance's detectors.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import phonenumbers

from bench.heldout import phones, values

EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")
DOCUMENTATION_DOMAINS = ("example.com", "example.org", "example.net", ".example", ".test", ".invalid", "localhost")


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def card_ok(text: str) -> bool:
    """Luhn, and a prefix and a length some network issues."""
    if re.fullmatch(r"[0-9 -]+", text) is None:
        return False
    d = digits_of(text)
    if not values.luhn_ok(d):
        return False
    for _, ranges, lengths in values.CARD_NETWORKS:
        if len(d) not in lengths:
            continue
        for low, high in ranges:
            width = len(str(low))
            if low <= int(d[:width]) <= high:
                return True
    return False


def ssn_ok(text: str) -> bool:
    match = re.fullmatch(r"(\d{3})([- ]?)(\d{2})\2(\d{4})", text)
    if match is None:
        return False
    area, _, group, serial = match.groups()
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and area + group + serial not in values.VOID_SSNS
    )


def aba_checked(text: str) -> bool:
    return re.fullmatch(r"\d{9}", text) is not None and values.aba_ok(text) and int(text[:2]) in values.ABA_PREFIXES


def bank_ok(text: str) -> bool:
    return re.fullmatch(r"\d{8,17}", text) is not None


def iban_ok(text: str) -> bool:
    compact = text.replace(" ", "")
    country = compact[:2]
    layout = values.IBAN_LAYOUTS.get(country)
    if layout is None or len(compact) != 4 + sum(n for _, n in layout):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def phone_ok(text: str) -> bool:
    """Valid in some region the corpus writes (national numbers carry no country of their own)."""
    for region in phones.REGIONS:
        try:
            parsed = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def email_ok(text: str) -> bool:
    return EMAIL.fullmatch(text) is not None and not text.lower().endswith(DOCUMENTATION_DOMAINS)


def ip_ok(text: str) -> bool:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    documentation = ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
    networks = [ipaddress.ip_network(n) for n in documentation]
    return not any(addr in n for n in networks if n.version == addr.version)


CHECKS = {
    "CREDIT_CARD": card_ok, "US_SSN": ssn_ok, "ABA_ROUTING_NUMBER": aba_checked, "US_BANK_NUMBER": bank_ok,
    "IBAN_CODE": iban_ok, "PHONE_NUMBER": phone_ok, "EMAIL_ADDRESS": email_ok, "IP_ADDRESS": ip_ok,
}  # fmt: skip
"""What each pattern type's values must pass."""


@dataclass
class Census:
    """Counts over a half: what tests may know of the test half."""

    records: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    entities: Counter[str] = field(default_factory=Counter)
    negatives: Counter[str] = field(default_factory=Counter)
    out_of_text: int = 0
    """Labels whose offsets are empty or outside their text."""
    entity_overlaps: int = 0
    """Pairs of labelled values that overlap."""
    negative_overlaps: int = 0
    """Hard negatives that overlap a labelled value."""
    padded: int = 0
    """Labels that begin or end with white space."""
    invalid: Counter[str] = field(default_factory=Counter)
    """Labelled values, by type, that fail their type's check."""
    sensitive_negatives: Counter[str] = field(default_factory=Counter)
    """Hard negatives, by kind, that pass a check they must fail (a card number, a valid SSN, a real address)."""


def overlaps(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["start"] < b["end"] and b["start"] < a["end"])


def census(records: list[dict[str, Any]]) -> Census:
    c = Census(records=len(records))
    for r in records:
        text, ents, negs = r["text"], r["entities"], r["negatives"]
        c.kinds[r["kind"]] += 1
        for label in ents + negs:
            if not 0 <= label["start"] < label["end"] <= len(text):
                c.out_of_text += 1
            else:
                value = text[label["start"] : label["end"]]
                c.padded += value != value.strip()
        for i, e in enumerate(ents):
            c.entities[e["type"]] += 1
            c.entity_overlaps += sum(overlaps(e, other) for other in ents[i + 1 :])
            check = CHECKS.get(e["type"])
            if check is not None and not check(text[e["start"] : e["end"]]):
                c.invalid[e["type"]] += 1
        for n in negs:
            c.negatives[n["kind"]] += 1
            c.negative_overlaps += any(overlaps(n, e) for e in ents)
            if is_sensitive(n["kind"], text[n["start"] : n["end"]]):
                c.sensitive_negatives[n["kind"]] += 1
    return c


def is_sensitive(kind: str, value: str) -> bool:
    """Whether a hard negative is in fact a card, an SSN or a deliverable address."""
    if card_ok(value):
        return True
    if kind == "invalid_ssn":
        return ssn_ok(value)
    return kind == "example_email" and email_ok(value)
