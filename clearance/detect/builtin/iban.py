"""IBAN_CODE: international bank account numbers with their country's length and a valid mod-97 check.

Written compact or in groups of four separated by spaces (``DE89 3704 0044 0532 0130 00``). The country code
fixes the length, so a candidate is read for exactly that many characters; text that follows it does not make
it fail.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import iban_mod97_valid
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

# Country code, check digits, then up to 32 characters in groups separated by single spaces; over the text's
# skeleton (capital letters are A, digits 0), so that the engine skips to candidates by a literal search.
_CANDIDATE = re.compile(rb"AA00(?: ?[A0]){10,32}")


def _take(candidate: str, length: int) -> int:
    """How many characters of ``candidate`` hold its first ``length`` letters and digits (spaces skipped)."""
    if " " not in candidate[: length + length // 4]:
        return length
    seen = 0
    for i, ch in enumerate(candidate):
        if ch != " ":
            seen += 1
            if seen == length:
                return i + 1
    return len(candidate) + 1


class IbanDetector(Detector):
    name = "iban"
    types = frozenset({"IBAN_CODE"})
    triggers: tuple[str, ...] = (r"[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}",)
    score = 0.95

    def find(self, doc: Document) -> Iterator[Finding]:
        text, classes = doc.text, doc.skeleton
        n = len(text)
        pos = 0
        while (match := _CANDIDATE.search(classes, pos)) is not None:
            start, stop = match.span()
            pos = start + 1  # a rejected candidate may hide an IBAN that starts inside it
            length = IBAN_LENGTHS.get(text[start : start + 2])
            if length is None or (start > 0 and text[start - 1].isalnum()):
                continue
            candidate = text[start:stop]
            used = _take(candidate, length)
            if used > len(candidate):
                continue
            end = start + used
            if end < n and text[end].isalnum():
                continue  # the IBAN would continue: too long for its country
            if iban_mod97_valid(candidate[:used].replace(" ", "")):
                yield Finding(start, end, "IBAN_CODE", self.score, self.name)
                pos = end
