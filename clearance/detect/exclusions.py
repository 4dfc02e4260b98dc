"""Exclusions: known values that are not sensitive (test card numbers in docs, the company's own hotline).

An ``Exclusion`` applies to some entity types (all when none are named) and suppresses a finding whose value
equals one of its ``values`` after canonicalisation (separators and case do not matter; phone numbers compare as
E.164, so ``(415) 555-0100`` and ``+1 415 555 0100`` are the same number) or matches one of its RE2
``patterns`` in full.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import phonenumbers
import re2

from clearance.detect.base import Document
from clearance.models import Finding

COMPACT_TYPES = frozenset({"CREDIT_CARD", "US_SSN", "IBAN_CODE", "ABA_ROUTING_NUMBER", "US_BANK_NUMBER"})


def canonical(type_: str, value: str) -> str:
    """The form in which two spellings of the same value compare equal."""
    if type_ == "PHONE_NUMBER":
        try:
            number = phonenumbers.parse(value, "US")
            return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))
        except phonenumbers.NumberParseException:
            return "".join(ch for ch in value if ch.isdigit())
    if type_ in COMPACT_TYPES:
        return "".join(ch for ch in value if ch.isalnum()).upper()
    return value.strip().casefold()


def re2_options() -> Any:
    options = re2.Options()
    options.log_errors = False
    return options


@dataclass(frozen=True)
class Exclusion:
    types: frozenset[str]
    values: frozenset[str]
    patterns: tuple[Any, ...]

    @classmethod
    def build(cls, *, types: Iterable[str] = (), values: Iterable[str] = (), patterns: Iterable[str] = ()) -> Exclusion:
        """Canonicalise ``values`` and compile ``patterns`` (RE2; raises ``re2.error`` if one is invalid)."""
        types = frozenset(types)
        kinds = types or frozenset({"PHONE_NUMBER", "CREDIT_CARD", ""})
        canon = frozenset(canonical(t, v) for v in values for t in kinds)
        compiled = tuple(re2.compile(p, re2_options()) for p in patterns)
        return cls(types, canon, compiled)

    def matches(self, type_: str, value: str) -> bool:
        if self.types and type_ not in self.types:
            return False
        if self.values and canonical(type_, value) in self.values:
            return True
        return any(p.fullmatch(value) is not None for p in self.patterns)


class ExclusionSet:
    def __init__(self, exclusions: Iterable[Exclusion] = ()) -> None:
        self._exclusions = tuple(exclusions)

    def __bool__(self) -> bool:
        return bool(self._exclusions)

    def filter(self, doc: Document, findings: Sequence[Finding]) -> list[Finding]:
        if not self._exclusions:
            return list(findings)
        return [f for f in findings if not any(e.matches(f.type, doc.value(f)) for e in self._exclusions)]
