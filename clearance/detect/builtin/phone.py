"""PHONE_NUMBER: US and international telephone numbers, validated with the ``phonenumbers`` library's metadata.

Shapes and what they need to be reported:

* international, ``+CC …`` or ``00CC …``: valid for the country its code names;
* North American, ``(415) 555-2671``, ``415-555-2671``, ``415.555.2671``, ``1-415-555-2671``: valid US/NANP;
* national with a trunk prefix, ``020 7946 0958``: valid in one of ``regions`` (formatted, at least two groups
  and ten digits, so that ZIP+4 codes such as ``05930-6590`` are not taken for numbers);
* bare digits, ``4155552671`` (North American) or ``07911123456``, ``015112345678``, ``0612345678`` (ten to
  twelve digits with the trunk ``0`` of one of ``regions``, valid there): a weak candidate that needs a context
  word (``phone``, ``call``, ``tel``…, or a phone column's header), never right after ``#`` (an order or ticket
  number). Bare digits are what ids, amounts and timestamps look like, so a valid plan alone is not evidence.

``regions`` are the default regions of national numbers (``detection.phone.regions``, ISO 3166 codes that
``phonenumbers`` knows); ``DEFAULT_REGIONS`` when not configured.

An extension written after a number is part of the finding, so masking hides it too: ``x1234``, ``ext. 12``,
``ext 5``, ``extension 204``, ``, ext 12``, ``;ext=12`` (``tel:`` URIs), in any case.

Dates (``2024-01-15``), times, decimals, version strings and glued identifiers never have one of these shapes;
order and ticket numbers that do are pushed under the threshold by negative context words (``order``,
``invoice``, ``ticket``…). Validation runs only on candidates of the right shape (see ``phone_metadata``).
North American numbers are checked against the US and Canadian plans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.numbers import NUMBER_RUN_TRIGGER, NumberRun
from clearance.detect.phone_metadata import PhoneValidator
from clearance.models import Finding

_NANP_GAPS = frozenset({"-", ".", " ", ") ", ")", ")-", ").", " (", "-(", " - "})
_NATIONAL_GAPS = frozenset({"-", ".", " ", ") ", ")", " - ", "/", " / "})
_NANP_SHAPES = ((3, 3, 4), (1, 3, 3, 4))
NANP_REGIONS = ("US", "CA")
# Regions with a trunk "0" whose plans add no false positive on formatted numbers that start with 0 (ids, refs),
# measured on 20,000 random ones: BR, CN and AT would add 0.3-0.7 % each (their plans accept most lengths), and
# regions without a trunk prefix (PL, PT, MX, CN) add nothing that starts with 0. See docs/detection.md.
DEFAULT_REGIONS = ("GB", "DE", "FR", "ES", "IT", "NL", "IN", "AU", "IE", "BE", "CH", "SE", "ZA", "JP")
# An extension right after a number: at most two blanks and a comma or semicolon before the marker, then one to
# six digits (right after an ``x``: ``x 2`` is a count) that no letter or digit follows. Matched only at the end
# of a number found, never over the text.
_EXTENSION = re.compile(
    r"(?:[ \t]{0,2}[,;]?[ \t]{0,2}(?:(?:extension|ext\.?)[ \t]{0,2}[:.#]?[ \t]{0,2}|x)|;ext=)[0-9]{1,6}(?![0-9A-Za-z])",
    re.ASCII | re.IGNORECASE,
)
# A candidate holds digits, the run's separators and a leading "+": dropping these leaves its digits.
_NOT_DIGITS = str.maketrans("", "", " -./()+")


class PhoneNumberDetector(Detector):
    name = "phone"
    types = frozenset({"PHONE_NUMBER"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER,)
    international_score = 0.75
    nanp_score = 0.7
    national_score = 0.55
    bare_score = 0.3

    def __init__(self, regions: tuple[str, ...] = DEFAULT_REGIONS) -> None:
        self.regions = regions
        self._validator = PhoneValidator()
        self._validator.prepare(NANP_REGIONS + regions)

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        for run in doc.number_runs:
            if run.ndigits < 7:
                continue
            sizes, parts = run.sizes, run.parts
            after = run.lo
            # A number starts at the run's first free group, or at one after "(" or "/". One in the middle of a
            # longer run ("DE89 3704 0044 0532", "4111 1111 1111 1111") is a part of something else: trying every
            # group there would only cost validations.
            last = run.hi if "(" in run.raw or "/" in run.raw else run.lo
            for i in range(run.lo, last + 1):
                if i < after or (i > run.lo and not (parts[2 * i - 1].endswith("(") or "/" in parts[2 * i - 1])):
                    continue
                start = run.start if i == 0 else run.offsets[2 * i]
                first = parts[2 * i]
                # Only these can start a phone number: cheap tests before any slicing or parsing.
                if not (
                    first[0] == "0"
                    or (start > 0 and text[start - 1] == "+")
                    or sizes[i] in (10, 11)
                    or sizes[i : i + 3] == (3, 3, 4)
                    or (first == "1" and sizes[i + 1 : i + 4] == (3, 3, 4))
                ):
                    continue
                found = self._longest_at(text, run, i, start)
                if found is not None:
                    j, start, score = found
                    end = run.offsets[2 * j + 1]
                    extension = _EXTENSION.match(text, end) if j == run.hi else None
                    if extension is not None:
                        end = extension.end()
                    yield Finding(start, end, "PHONE_NUMBER", score, self.name)
                    after = j + 1

    def _longest_at(self, text: str, run: NumberRun, i: int, start: int) -> tuple[int, int, float] | None:
        """The longest valid number starting at group ``i`` (which starts at ``start``): its last group, where it
        starts (a leading "+" or "(" included) and its score; or None."""
        sizes, parts = run.sizes, run.parts
        if i > 0 and " " not in parts[2 * i - 1] and not parts[2 * i - 1].endswith("("):
            return None
        if start > 0 and text[start - 1] in "+(":
            start -= 1
        # A phone number has at most 15 digits: only the groups that fit are candidates for its end (this keeps
        # a run of thousands of groups linear), tried longest first.
        ends: list[int] = []
        total = 0
        last = len(sizes) - 1
        for j in range(i, run.hi + 1):
            total += sizes[j]
            if total > 15:
                break
            if total >= 7 and (j == last or " " in parts[2 * j + 1]):
                ends.append(j)
        for j in reversed(ends):
            score = self._score(text[start : run.offsets[2 * j + 1]], run, i, j)
            if score is not None:
                return j, start, score
        return None

    def _score(self, candidate: str, run: NumberRun, i: int, j: int) -> float | None:
        shape = run.sizes[i : j + 1]
        gaps = run.parts[2 * i + 1 : 2 * j + 1 : 2]
        first = candidate.lstrip("(")
        if first.startswith("+"):
            # "+44 (0)20 7946 0958": the trunk prefix written in parentheses by habit is not dialled.
            digits = candidate.replace("(0)", "", 1).translate(_NOT_DIGITS)
            return self.international_score if self._validator.valid_international(digits) else None
        if first.startswith("00") and len(shape) > 1 and shape[0] >= 3:
            valid = self._validator.valid_international(run.digits(i, j)[2:])
            return self.international_score if valid else None
        # A North American area code never starts with 0: "087 123 4567" is Irish, "082 123 4567" South African.
        if shape in _NANP_SHAPES and first[0] != "0" and all(g in _NANP_GAPS for g in gaps):
            if (len(shape) == 4 and first[0] != "1") or candidate.count("(") != candidate.count(")"):
                return None
            return self.nanp_score if self._nanp(run.digits(i, j)) else None
        if first.startswith("0") and len(shape) > 1 and 10 <= sum(shape) <= 12:
            if len(shape) == 2 and gaps[0] == "." and shape[1] <= 2:
                return None  # an amount: 0412345678.00
            if all(g in _NATIONAL_GAPS for g in gaps) and self._valid_national(run.digits(i, j)):
                return self.national_score
            return None
        if len(shape) == 1:
            if run.offsets[2 * i] > 0 and run.text[run.offsets[2 * i] - 1] == "#":
                return None  # "#4155552671" is an order or ticket number
            digits = run.digits(i, j)
            if (len(digits) == 10 and digits[0] in "23456789") or (len(digits) == 11 and digits[0] == "1"):
                return self.bare_score if self._nanp(digits) else None
            if digits[0] == "0" and 10 <= len(digits) <= 12 and self._valid_national(digits):
                return self.bare_score
        return None

    def _valid_national(self, digits: str) -> bool:
        return any(self._validator.valid_national(digits, region) for region in self.regions)

    def _nanp(self, digits: str) -> bool:
        national = digits[1:] if len(digits) == 11 else digits
        return any(self._validator.valid_for_region(national, region) for region in NANP_REGIONS)
