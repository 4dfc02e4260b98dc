"""CREDIT_CARD: payment card numbers of every network, 12 to 19 digits, Luhn-validated.

A number is reported when its issuer prefix (IIN) belongs to a known network, its length is one that network
issues, and its Luhn check digit is right. Groups may be separated by spaces, dashes or dots, mixed or not (people
and evasion attempts both mix them), or not separated at all; a run of more than 19 digits, a number glued to a
longer identifier, or an evenly grouped number that goes on in the same grouping (a tracking number or an IBAN in
groups of four) is not a card.

Any other separator (``|``, ``_``, ``/``, ``,``, ``:``, a tab, a newline, a bullet, a run of spaces, a space
between every digit) is accepted when it is used consistently: a spaced run (``numbers.find_spaced_runs``) whose
every digit is the card's, in groups of three to six digits or in even groups (one digit at a time, pairs…).

Two classes of card share their shape with common identifiers and need evidence: twelve-digit Maestro numbers
(twelve digits is the length of order, invoice and account ids, and one in ten passes Luhn) and fifteen-digit
UATP numbers (their prefix ``1`` is that of numeric user and object ids). Such a number must be the whole of its
run and scores ``evidence_score``, which only a word that names a card lifts over the threshold (``card``,
``card number``, ``maestro``, ``PAN``, a ``card_number`` column): grouping is no evidence, since ids are grouped
the same way (AWS account ids are twelve digits written ``1234-5678-9012``), and ``payment`` or ``debit`` alone
introduce payment references as often as cards.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import luhn_valid
from clearance.detect.exclusions import re2_options
from clearance.detect.numbers import NUMBER_RUN_TRIGGER, SPACED_RUN_TRIGGER, NumberRun, evenly_grouped
from clearance.detect.phone_metadata import PhoneValidator
from clearance.models import Finding

# (network, lowest prefix, highest prefix, lengths): prefixes compared on as many leading digits as they have. The
# first entry that matches names the brand, so narrower ranges come before the wider ones that hold them.
_MAESTRO = (12, 13, 14, 15, 16, 17, 18, 19)
_BRANDS: tuple[tuple[str, str, str, tuple[int, ...]], ...] = (
    ("visa", "4", "4", (13, 16, 19)),  # co-branded Elo and Dankort ranges inside 4 are Visa's lengths too
    ("mastercard", "51", "55", (16,)),
    ("mastercard", "2221", "2720", (16,)),
    ("amex", "34", "34", (15,)),
    ("amex", "37", "37", (15,)),
    ("discover", "6011", "6011", (16, 17, 18, 19)),
    ("discover", "622126", "622925", (16, 17, 18, 19)),  # UnionPay co-brand
    ("discover", "644", "649", (16, 17, 18, 19)),
    ("verve", "650002", "650027", (16, 18, 19)),
    ("elo", "650031", "650978", (16,)),
    ("discover", "65", "65", (16, 17, 18, 19)),  # RuPay and Troy issue in 65 too
    ("unionpay", "62", "62", (16, 17, 18, 19)),
    ("unionpay", "81", "81", (16, 17, 18, 19)),
    ("rupay", "82", "82", (16,)),
    ("diners", "300", "305", (14, 15, 16, 17, 18, 19)),
    ("diners", "3095", "3095", (14, 15, 16, 17, 18, 19)),
    ("diners", "36", "36", (14, 15, 16, 17, 18, 19)),
    ("hipercard", "384100", "384160", (16, 17, 18, 19)),
    ("diners", "38", "39", (14, 15, 16, 17, 18, 19)),
    ("jcb", "35", "35", (16, 17, 18, 19)),  # 3528-3589 assigned; generators and test data use all of 35
    ("jcb", "2131", "2131", (15,)),
    ("jcb", "1800", "1800", (15,)),
    ("uatp", "1", "1", (15,)),  # needs evidence (see the module's docstring)
    ("dankort", "5019", "5019", (16,)),
    ("maestro", "5018", "5018", _MAESTRO),
    ("maestro", "5020", "5020", _MAESTRO),
    ("maestro", "5038", "5038", _MAESTRO),
    ("verve", "506099", "506198", (16, 18, 19)),
    ("elo", "504175", "504175", (16,)),
    ("elo", "506699", "506778", (16,)),
    ("elo", "509000", "509999", (16,)),
    ("maestro", "5893", "5893", _MAESTRO),
    ("maestro", "56", "58", _MAESTRO),
    ("hipercard", "606282", "606282", (16, 19)),
    ("maestro", "6304", "6304", _MAESTRO),
    ("interpayment", "636", "636", (16, 17, 18, 19)),
    ("elo", "636297", "636368", (16,)),
    ("maestro", "6759", "6759", _MAESTRO),
    ("maestro", "6761", "6763", _MAESTRO),
    ("maestro", "676770", "676774", _MAESTRO),
    ("mir", "2200", "2204", (16, 17, 18, 19)),
    ("borica", "2205", "2205", (16,)),
    ("rupay", "60", "60", (16,)),
    ("rupay", "508", "508", (16,)),
    ("humo", "9860", "9860", (16,)),
    ("uzcard", "8600", "8600", (16,)),
    ("troy", "9792", "9792", (16,)),
)
# The lengths and brands that collide with identifiers: a card of these needs evidence.
_EVIDENCE_LENGTH = 12
_EVIDENCE_BRANDS = frozenset({"uatp"})

# Every separator allowed between two groups: one to three of space, dash and dot, mixed or not.
_CARD_GAPS = frozenset("".join(gap) for n in (1, 2, 3) for gap in itertools.product(" -.", repeat=n))

# Four groups of four digits joined by single separators that change along the value (``4111-1111.1111_1111``):
# the way a card is written to slip past a pattern, which consistent separators (spaced runs) do not cover.
_MIXED_GROUPS = re2.compile(
    r"[0-9]{4}([^0-9A-Za-z\s]| )[0-9]{4}([^0-9A-Za-z\s]| )[0-9]{4}([^0-9A-Za-z\s]| )[0-9]{4}", re2_options()
)
_CARD_SEPARATORS = frozenset(" -.")
_TOKEN_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

_BY_FIRST_DIGIT = {d: tuple(b for b in _BRANDS if b[1][0] == d) for d in "0123456789"}


def card_brand(digits: str) -> str | None:
    """The brand whose prefix and length ``digits`` has, or None. Does not check Luhn."""
    n = len(digits)
    for brand, low, high, lengths in _BY_FIRST_DIGIT[digits[0]]:
        if n in lengths and low <= digits[: len(low)] <= high:
            return brand
    return None


class CreditCardDetector(Detector):
    name = "credit_card"
    types = frozenset({"CREDIT_CARD"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER, SPACED_RUN_TRIGGER)
    score = 0.9
    evidence_score = 0.15

    def __init__(self) -> None:
        # Checks "+4915123453990": a valid international number after "+" is a phone even when it passes Luhn.
        self._phones = PhoneValidator()

    def find(self, doc: Document) -> Iterator[Finding]:
        yield from self._find_in_number_runs(doc)
        yield from self._find_mixed_groups(doc)
        for run in doc.spaced_runs:
            # What number runs hold already (their separators, groups of three to six) was judged there.
            if run.ndigits < _EVIDENCE_LENGTH or (run.gap(0) in _CARD_GAPS and _grouped_in_threes_to_sixes(run.sizes)):
                continue
            if evenly_grouped(run.sizes) or _grouped_in_threes_to_sixes(run.sizes):
                digits = run.digits(0, run.hi)
                brand = card_brand(digits)
                if brand is not None and luhn_valid(digits):
                    start, end = run.span(0, run.hi)
                    yield Finding(start, end, "CREDIT_CARD", self._score(digits, brand), self.name)

    def _find_mixed_groups(self, doc: Document) -> Iterator[Finding]:
        """Cards in four groups of four whose separators are not all the same, when the groups are the whole
        sequence (no letter, digit or further group right before or after: not one row of a table)."""
        text = doc.text
        # Searched in the byte view: RE2's wrapper re-encodes a str and maps every match's offsets back, which cost
        # more than the search. The view has one byte per character (non-ASCII as "?", which the separator class
        # matches as it matches any non-ASCII character), so spans are the same; separators are read from ``text``.
        for match in _MIXED_GROUPS.finditer(doc.ascii):
            start, end = match.span()
            first, middle, last = text[start + 4], text[start + 9], text[start + 14]
            # One separator throughout, or spaces, dashes and dots only, is the other finders' (no duplicates);
            # "4111|1111 1111|1111" is two cells of a table, not a card.
            if (
                first == middle == last
                or {first, middle, last} <= _CARD_SEPARATORS
                or (first == last != middle)
                or _continues(text, start - 1, -1)
                or _continues(text, end, 1)
            ):
                continue
            digits = "".join(c for c in text[start:end] if "0" <= c <= "9")
            if card_brand(digits) is not None and luhn_valid(digits):
                yield Finding(start, end, "CREDIT_CARD", self.score, self.name)

    def _find_in_number_runs(self, doc: Document) -> Iterator[Finding]:
        for run in doc.number_runs:
            if run.ndigits < _EVIDENCE_LENGTH:
                continue
            i = run.lo
            while i <= run.hi:
                best = self._longest_card(run, i)
                if best is None:
                    i += 1
                    continue
                if _inside_longer_grouping(run, i, best):
                    i = best + 1
                    continue
                start, end = run.span(i, best)
                digits = run.digits(i, best)
                if start > 0 and run.text[start - 1] == "+" and self._phones.valid_international(digits):
                    i = best + 1
                    continue  # E.164 numbers have at most 15 digits: a longer one is still a card
                score = self._score(digits, card_brand(digits))
                yield Finding(start, end, "CREDIT_CARD", score, self.name)
                i = best + 1

    def _score(self, digits: str, brand: str | None) -> float:
        """The base score of a card of ``brand``: low for the classes that need evidence (module docstring)."""
        if len(digits) == _EVIDENCE_LENGTH or brand in _EVIDENCE_BRANDS:
            return self.evidence_score
        return self.score

    @staticmethod
    def _longest_card(run: NumberRun, i: int) -> int | None:
        """The last group of the longest card that starts at group ``i``, or None.

        Runs once per digit group of every long number in the text, so it reads ``parts`` (groups at even
        indices, the gaps between them at odd ones) directly.
        """
        sizes, parts = run.sizes, run.parts
        size = sizes[i]
        if (
            size < 3
            or 6 < size < _EVIDENCE_LENGTH
            or (i > 0 and " " not in parts[2 * i - 1])
            or not _BY_FIRST_DIGIT[parts[2 * i][0]]
        ):
            return None
        best: int | None = None
        total = 0
        last = len(sizes) - 1
        for j in range(i, run.hi + 1):
            size = sizes[j]
            if j > i and (parts[2 * j - 1] not in _CARD_GAPS or not 3 <= sizes[j - 1] <= 6 or size > 6):
                break
            total += size
            if total > 19:
                break
            # Twelve digits are a card only as the whole run: the front of a longer number that fails Luhn is not.
            if (total > _EVIDENCE_LENGTH or (total == _EVIDENCE_LENGTH and i == 0 and j == last)) and (
                j == last or " " in parts[2 * j + 1]
            ):
                digits = "".join(parts[2 * i : 2 * j + 1 : 2])
                if card_brand(digits) is not None and luhn_valid(digits):
                    best = j
        return best


def _inside_longer_grouping(run: NumberRun, i: int, j: int) -> bool:
    """Whether groups ``i``..``j`` are evenly grouped (same size, the last no longer) and the run goes on in the
    same grouping past them: the card is only part of a longer number (``9400 8260 1235 6763 6004 29``, a
    tracking number; an IBAN or a reference written in fours). A group of another size or another separator next
    to the card (``qty 2 4111 1111 1111 1111``) ends the grouping, so the card stands."""
    if j == i:
        return False
    sizes, parts = run.sizes, run.parts
    size, gap = sizes[i], parts[2 * i + 1]
    if size > 6 or any(sizes[k] != size for k in range(i + 1, j)) or sizes[j] > size:
        return False
    if any(parts[2 * k + 1] != gap for k in range(i, j)):
        return False
    before = i > 0 and parts[2 * i - 1] == gap and sizes[i - 1] == size
    # Two more groups after it, the first full: one group after a card ("… 1111 0000", "… 1111 2024") is as often
    # an expiry, a year or a stray number glued on, and a card must not hide behind one (tests/proxy's fuzz).
    after = (
        j < len(sizes) - 2
        and sizes[j] == size
        and parts[2 * j + 1] == gap == parts[2 * j + 3]
        and sizes[j + 1] == size
        and sizes[j + 2] <= size
    )
    return before or after


def _grouped_in_threes_to_sixes(sizes: tuple[int, ...]) -> bool:
    """Three to six digits in each group but the last, which has at most six."""
    for k in range(len(sizes) - 1):
        if not 3 <= sizes[k] <= 6:
            return False
    return sizes[-1] <= 6


def _continues(text: str, at: int, step: int) -> bool:
    """Whether the character at ``at`` glues the groups to a token (a letter or digit), or is a separator with a
    digit after it in the direction ``step`` (the sequence goes on)."""
    if at < 0 or at >= len(text):
        return False
    if text[at] in _TOKEN_CHARS:
        return True
    beyond = at + step
    return not text[at].isspace() and 0 <= beyond < len(text) and "0" <= text[beyond] <= "9"
