"""IBAN_CODE: international bank account numbers with their country's length and a valid mod-97 check.

Written compact, with single spaces anywhere (``DE89 3704 0044 0532 0130 00``), or in even groups joined by one
separator used every time (``DE89-3704-0044-0532-0130-00``, ``de89|3704|…``, a space or a dot between every
character; any run of up to eight characters that are not letters or digits). Upper or lower case, one or the
other throughout. The country code fixes the length, so a candidate is read for exactly that many letters and
digits; then it must not go on (a letter or digit right after it), and its mod-97 check must hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import iban_mod97_valid
from clearance.detect.exclusions import re2_options
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

_MAX_GAP: Final = 8
_SEPARATOR = f"[^0-9A-Za-z]{{0,{_MAX_GAP}}}"


def _starts_pattern() -> bytes:
    """Where an IBAN may start, over the text's ASCII view: at the start of a word, a country code that has IBANs
    and two check digits, in one case. In upper case any separators may come between them; in lower case the
    check digits follow the code at once (``de89…``), or every character is separated (``d e 8 9 …``): lower-case
    prose is full of two-letter words before numbers ("at 10 am"), and naming the countries keeps it from offering
    many candidates too. RE2 runs it in one linear pass over bytes; the walk (``_read``) decides the rest."""
    upper = "|".join(f"{code[0]}{_SEPARATOR}{code[1]}" for code in IBAN_LENGTHS)
    lower_joined = "|".join(code.lower() for code in IBAN_LENGTHS)
    spaced = f"[^0-9A-Za-z]{{1,{_MAX_GAP}}}"
    lower_spaced = "|".join(f"{code[0].lower()}{spaced}{code[1].lower()}" for code in IBAN_LENGTHS)
    return (
        f"(?:^|[^0-9A-Za-z])((?:{upper}){_SEPARATOR}[0-9]{_SEPARATOR}[0-9]"
        f"|(?:{lower_joined})[0-9][0-9]|(?:{lower_spaced}){spaced}[0-9]{spaced}[0-9])"
    ).encode()


_STARTS = re2.compile(_starts_pattern(), re2_options())


def _trigger() -> str:
    upper = "|".join(IBAN_LENGTHS)
    spaced = f"[^0-9A-Za-z]{{1,{_MAX_GAP}}}"
    return (
        f"(?:^|[^0-9A-Za-z])(?:(?:{upper}){_SEPARATOR}[0-9]{_SEPARATOR}[0-9]|(?:{upper.lower()})[0-9][0-9]"
        f"|[A-Za-z]{spaced}[A-Za-z]{spaced}[0-9]{spaced}[0-9])"
    )


_ALNUM = frozenset(b"0Aa")


class _Read:
    """An IBAN candidate read from the text: where it ends and its letters and digits."""

    __slots__ = ("end", "value")

    def __init__(self, end: int, value: str) -> None:
        self.end = end
        self.value = value


def _read(text: str, classes: bytes, start: int, length: int, upper: bool) -> _Read | None:
    """The ``length`` letters and digits from ``start``, or None when they are not written as an IBAN is: with no
    separator; with one separator (up to ``_MAX_GAP`` characters that are not letters or digits, of any script)
    between even groups (``evenly_grouped``); or, in upper case, with single spaces anywhere (lower-case prose is
    full of two-letter words and numbers that single spaces would join). Reading stops at the first gap that
    breaks the rule, so prose costs a few characters."""
    n = len(text)
    k = start
    count = 0
    chars: list[str] = []
    sizes: list[int] = []
    first_gap = ""
    spaces_only = upper
    while True:
        block = k
        while k < n and count < length and classes[k] in _ALNUM:
            k += 1
            count += 1
        chars.append(text[block:k])
        sizes.append(k - block)
        if count == length:
            if not (spaces_only or len(sizes) == 1 or evenly_grouped(tuple(sizes))):
                return None
            return _Read(k, "".join(chars))
        gap_start = k
        while k < n and k - gap_start <= _MAX_GAP and classes[k] not in _ALNUM:
            if text[k].isalnum():
                return None
            k += 1
        if k >= n or k - gap_start > _MAX_GAP:
            return None
        gap = text[gap_start:k]
        if not first_gap:
            first_gap = gap
        spaces_only = spaces_only and gap == " "
        if not spaces_only and (gap != first_gap or sizes[-1] != sizes[0] or sizes[0] > 6):
            return None


class IbanDetector(Detector):
    name = "iban"
    types = frozenset({"IBAN_CODE"})
    # The shapes of ``_STARTS``, loosely (a country code joined to its check digits, or any letters spaced), so that
    # the detector runs on few texts without the trigger pass growing.
    triggers: tuple[str, ...] = (_trigger(),)
    score = 0.95

    def find(self, doc: Document) -> Iterator[Finding]:
        text, classes = doc.text, doc.skeleton
        n = len(text)
        pos = 0
        for match in _STARTS.finditer(doc.ascii):
            start = match.start(1)
            # Not inside a word (a letter of another script is "?" in the ASCII view), nor in an IBAN just found.
            if start < pos or (start > 0 and text[start - 1].isalnum()):
                continue
            second = start + 1
            while classes[second] not in _ALNUM:
                second += 1
            country = text[start] + text[second]  # the two letters, whatever separates them
            length = IBAN_LENGTHS.get(country.upper())
            if length is None:
                continue
            upper = country.isupper()
            read = _read(text, classes, start, length, upper)
            if read is None or (read.end < n and text[read.end].isalnum()):
                continue
            value = read.value
            # One case throughout, as written by hand or by a program (not "De89…"), and check digits.
            if value != (value.upper() if upper else value.lower()) or not value[2:4].isdigit():
                continue
            if iban_mod97_valid(value.upper()):
                yield Finding(start, read.end, "IBAN_CODE", self.score, self.name)
                pos = read.end
