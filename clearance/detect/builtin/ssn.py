"""US_SSN: US Social Security numbers that the SSA could have issued.

The SSA's rules: the area (first three digits) is never 000, 666 or 900-999; the group (next two) never 00; the
serial (last four) never 0000; and a few numbers that were published and misused are void. Formatted numbers use
one separator consistently (``123-45-6789``, ``123 45 6789``); ``123-45 6789`` is not an SSN. A bare nine-digit
number is only a weak candidate: context (``SSN``, ``social security``) decides.

Any other separator (``/``, ``_``, ``|``, ``,``, ``:``, a tab, a newline, a bullet, a run of spaces) is accepted
when the three groups are the whole of a spaced run (``numbers.find_spaced_runs``): one separator, used twice, and
nothing joined to them by it. A space (or another separator) between every one of the nine digits makes a weak
candidate, like a bare number, that context decides: a row of nine single digits (a Sudoku line, a list) passes
the SSA's rules more often than not.

A bare nine-digit number that an identifier's word introduces (``order #123456789``, ``ticket 123456789``,
``ref: 123456789``) is an id, not an SSN, even when an ``SSN`` word is near; one glued to a token
(``ORD-123456789``, ``123456789x``) is never a candidate (``numbers.find_number_runs``). Time-shaped numbers
(``numbers.timestamp_like``) have ten or more digits and are never nine-digit candidates.
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.numbers import NUMBER_RUN_TRIGGER, SPACED_RUN_TRIGGER, label_before
from clearance.models import Finding

_VOID = frozenset({"078051120", "219099999", "457555462"})
# Words that, right before a bare number, say it identifies something else (the SSN's own labels are context).
_ID_WORDS = ("order", "invoice", "inv", "ticket", "case", "ref", "reference", "po", "tracking", "confirmation",
             "booking", "reservation", "transaction", "txn", "sku", "item", "serial", "id", "claim", "account", "acct",
             "routing", "aba", "phone", "tel", "fax", "pin", "zip", "batch", "job", "build", "request", "req", "issue",
             "pr", "shipment", "parcel", "member", "customer", "user")  # fmt: skip
# Each word alone and as ``invoice no``, ``order number``, ``case num`` (``no.`` and ``#`` are passed over).
ID_LABELS = tuple(word + suffix for word in _ID_WORDS for suffix in ("", " no", " number", " num", " nr"))


def ssa_valid(digits: str) -> bool:
    """True when the nine digits follow the SSA's issuing rules."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000" and digits not in _VOID


class UsSsnDetector(Detector):
    name = "us_ssn"
    types = frozenset({"US_SSN"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER, SPACED_RUN_TRIGGER)
    formatted_score = {"-": 0.85, " ": 0.65, ".": 0.65}
    bare_score = 0.3
    spaced_score = 0.6

    def find(self, doc: Document) -> Iterator[Finding]:
        yield from self._find_in_number_runs(doc)
        for run in doc.spaced_runs:
            if run.ndigits != 9:
                continue
            if run.sizes == (3, 2, 4):
                if run.gap(0) in self.formatted_score:
                    continue  # a number run's separator: judged there
                score = self.spaced_score
            elif len(run.sizes) == 9:
                score = self.bare_score
            else:
                continue
            if ssa_valid(run.digits(0, run.hi)):
                start, end = run.span(0, run.hi)
                yield Finding(start, end, "US_SSN", score, self.name)

    def _find_in_number_runs(self, doc: Document) -> Iterator[Finding]:
        for run in doc.number_runs:
            sizes = run.sizes
            if run.ndigits < 9 or (9 not in sizes and 2 not in sizes):
                continue
            parts = run.parts
            for i in range(run.lo, run.hi + 1):
                size = sizes[i]
                if size == 9:
                    if run.isolated(i, i) and ssa_valid(parts[2 * i]):
                        start, end = run.span(i, i)
                        if label_before(doc.lower, start, ID_LABELS):
                            continue
                        yield Finding(start, end, "US_SSN", self.bare_score, self.name)
                elif size == 3 and i + 2 <= run.hi and sizes[i + 1] == 2 and sizes[i + 2] == 4:
                    sep = parts[2 * i + 1]
                    score = self.formatted_score.get(sep)
                    # 12-123-45-6789 or 123-45-6789-01: part of a longer number.
                    if score is None or parts[2 * i + 3] != sep or not run.isolated(i, i + 2):
                        continue
                    if ssa_valid(parts[2 * i] + parts[2 * i + 2] + parts[2 * i + 4]):
                        start, end = run.span(i, i + 2)
                        yield Finding(start, end, "US_SSN", score, self.name)
