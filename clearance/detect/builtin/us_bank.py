"""US_BANK_NUMBER: US bank account numbers, reported only with context.

An account number is eight to seventeen digits with no structure to check, so on its own it is
indistinguishable from an order number or a timestamp. Every isolated digit group of that length is a weak
candidate (score 0.05) that only context words (``account``, ``acct``, ``checking``…) lift over the threshold.
So is a number of that length written in even groups joined by one separator, any one (``1234 5678 9012``,
``1234|5678|90``, a space between every digit): the whole of a spaced run (``numbers.find_spaced_runs``).

A bare number that reads as a time (an epoch value in seconds, milliseconds or microseconds, a digit-only
datetime stamp: ``numbers.timestamp_like``) is not a candidate unless an account label is the word right before
it (``acct no. 1718000000000``): an ``account`` word earlier on the line is about something else
(``account updated at 1718000000000``).
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.numbers import (
    NUMBER_RUN_TRIGGER,
    SPACED_RUN_TRIGGER,
    evenly_grouped,
    label_before,
    timestamp_like,
)
from clearance.models import Finding

# The labels that make a time-shaped number an account number: they must be the word right before it.
# ("acct #", "account no." end in punctuation, which ``label_before`` passes over.)
ACCOUNT_LABELS = ("account", "acct", "a/c", "account number", "account no", "acct no", "checking", "savings")


class UsBankNumberDetector(Detector):
    name = "us_bank"
    types = frozenset({"US_BANK_NUMBER"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER, SPACED_RUN_TRIGGER)
    score = 0.05

    def find(self, doc: Document) -> Iterator[Finding]:
        for run in doc.number_runs:
            if run.ndigits < 8:
                continue
            for i in range(run.lo, run.hi + 1):
                if 8 <= run.sizes[i] <= 17 and run.isolated(i, i):
                    start, end = run.span(i, i)
                    if timestamp_like(run.parts[2 * i]) and not label_before(doc.lower, start, ACCOUNT_LABELS):
                        continue
                    yield Finding(start, end, "US_BANK_NUMBER", self.score, self.name)
        for run in doc.spaced_runs:
            # Four numbers up to 255 joined by dots are an IPv4 address.
            dotted_quad = run.gap(0) == "." and len(run.sizes) == 4 and all(int(g) <= 255 for g in run.parts[::2])
            if run.ndigits <= 17 and evenly_grouped(run.sizes) and not dotted_quad:
                start, end = run.span(0, run.hi)
                yield Finding(start, end, "US_BANK_NUMBER", self.score, self.name)
