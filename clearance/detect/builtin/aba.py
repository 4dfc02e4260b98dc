"""ABA_ROUTING_NUMBER: US bank routing transit numbers.

Nine digits with a valid Federal Reserve prefix (00-12, 21-32, 61-72, 80) and the ABA checksum, written bare or
as ``XXXX-XXXX-X``. One random nine-digit number in about twenty-five passes both checks, so the base score is
low and context words (``routing``, ``ABA``, ``RTN``) make it a finding.
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import aba_checksum_valid
from clearance.detect.numbers import NUMBER_RUN_TRIGGER
from clearance.models import Finding


def aba_valid(digits: str) -> bool:
    prefix = int(digits[:2])
    return (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80) and aba_checksum_valid(digits)


class AbaRoutingDetector(Detector):
    name = "aba_routing"
    types = frozenset({"ABA_ROUTING_NUMBER"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER,)
    score = 0.3

    def find(self, doc: Document) -> Iterator[Finding]:
        for run in doc.number_runs:
            if run.ndigits < 9 or (9 not in run.sizes and 1 not in run.sizes):
                continue
            for i in range(run.lo, run.hi + 1):
                if run.sizes[i] == 9 and run.isolated(i, i):
                    last = i
                elif (
                    run.sizes[i] == 4
                    and i + 2 <= run.hi
                    and run.sizes[i + 1] == 4
                    and run.sizes[i + 2] == 1
                    and run.gap(i) == run.gap(i + 1) == "-"
                    and run.isolated(i, i + 2)
                ):
                    last = i + 2
                else:
                    continue
                if aba_valid(run.digits(i, last)):
                    start, end = run.span(i, last)
                    yield Finding(start, end, "ABA_ROUTING_NUMBER", self.score, self.name)
