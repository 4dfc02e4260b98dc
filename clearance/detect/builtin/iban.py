"""IBAN_CODE: international bank account numbers with their country's length and a valid mod-97 check.

Written compact, with single spaces anywhere (``DE89 3704 0044 0532 0130 00``), or in even groups joined by one
separator used every time (``DE89-3704-0044-0532-0130-00``, ``de89|3704|…``, a space or a dot between every
character; any run of up to four characters that are not letters or digits). Upper or lower case, one or the
other throughout. The country code fixes the length, so a candidate is read for exactly that many letters and
digits; then it must not go on (a letter or digit right after it), and its mod-97 check must hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import iban_mod97_valid
from clearance.detect.numbers import evenly_grouped
from clearance.models import Finding

# ISO 13616 registry: country code -> IBAN length.
IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
    "RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
    "SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip

# Where an IBAN may start, over the text's skeleton (letters are A or a, digits 0): two letters and two digits, each
# pair at most four other characters apart, not inside a word. The walk (``_read``) decides the rest.
_START = re.compile(rb"(?<![0Aa])[Aa](?:[^0Aa]{1,4})?([Aa])(?:[^0Aa]{1,4})?0(?:[^0Aa]{1,4})?0")
_MAX_GAP: Final = 4
_ALNUM = frozenset(b"0Aa")


class _Read:
    """An IBAN candidate read from the text: where it ends, its letters and digits, and how they were grouped."""

    __slots__ = ("end", "gaps", "sizes", "value")

    def __init__(self, end: int, value: str, sizes: tuple[int, ...], gaps: tuple[str, ...]) -> None:
        self.end = end
        self.value = value
        self.sizes = sizes
        self.gaps = gaps

    def well_separated(self, upper: bool) -> bool:
        """No separator; one separator between even groups; or, in upper case, single spaces anywhere (lower-case
        prose is full of two-letter words and numbers that single spaces would join)."""
        gaps = self.gaps
        if not gaps or (upper and all(g == " " for g in gaps)):
            return True
        return all(g == gaps[0] for g in gaps) and evenly_grouped(self.sizes)


def _read(text: str, classes: bytes, start: int, length: int) -> _Read | None:
    """The ``length`` letters and digits from ``start`` and the separators between them, or None when a gap is
    longer than ``_MAX_GAP``, holds a letter of another script, or the text ends first."""
    n = len(text)
    k = start
    count = 0
    chars: list[str] = []
    sizes: list[int] = []
    gaps: list[str] = []
    while True:
        block = k
        while k < n and count < length and classes[k] in _ALNUM:
            k += 1
            count += 1
        chars.append(text[block:k])
        sizes.append(k - block)
        if count == length:
            return _Read(k, "".join(chars), tuple(sizes), tuple(gaps))
        gap = k
        while k < n and k - gap <= _MAX_GAP and classes[k] not in _ALNUM:
            if text[k].isalnum():
                return None
            k += 1
        if k >= n or k - gap > _MAX_GAP:
            return None
        gaps.append(text[gap:k])


class IbanDetector(Detector):
    name = "iban"
    types = frozenset({"IBAN_CODE"})
    triggers: tuple[str, ...] = (r"[A-Za-z][^0-9A-Za-z]{0,4}[A-Za-z][^0-9A-Za-z]{0,4}[0-9][^0-9A-Za-z]{0,4}[0-9]",)
    score = 0.95

    def find(self, doc: Document) -> Iterator[Finding]:
        text, classes = doc.text, doc.skeleton
        n = len(text)
        pos = 0
        while (match := _START.search(classes, pos)) is not None:
            start = match.start()
            pos = start + 1  # a rejected candidate may hide an IBAN that starts inside it
            country = text[start] + text[match.start(1)]  # the two letters, whatever separates them
            length = IBAN_LENGTHS.get(country.upper())
            if length is None or (start > 0 and text[start - 1].isalnum()):
                continue
            read = _read(text, classes, start, length)
            upper = country.isupper()
            if read is None or (read.end < n and text[read.end].isalnum()) or not read.well_separated(upper):
                continue
            value = read.value
            # One case throughout, as written by hand or by a program (not "De89…"), and check digits.
            if value != (value.upper() if upper else value.lower()) or not value[2:4].isdigit():
                continue
            if iban_mod97_valid(value.upper()):
                yield Finding(start, read.end, "IBAN_CODE", self.score, self.name)
                pos = read.end
