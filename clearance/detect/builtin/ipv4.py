"""IP_ADDRESS (version 4): four dotted decimal octets, each 0-255 without leading zeros.

Version strings are the usual false positive: ``v1.2.3.4``, ``Chrome/120.0.6099.109`` and ``1.2.3.4.5`` are glued
to other tokens or have too many parts and never reach this detector; ``version 1.2.3.4`` is pushed under the
threshold by negative context words. Four one-digit parts (``1.2.3.4``) are far more often a version than an
address and need a context word (``ip``, ``host``, ``dns``…) to be reported.
"""

from __future__ import annotations

from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.numbers import NUMBER_RUN_TRIGGER
from clearance.models import Finding


def _octets(parts: list[str], first: int) -> bool:
    """Groups ``first``..``first + 3`` are octets: 0-255, no leading zero."""
    for value in parts[2 * first : 2 * first + 7 : 2]:
        if len(value) > 3 or (value[0] == "0" and value != "0") or int(value) > 255:
            return False
    return True


class Ipv4Detector(Detector):
    name = "ipv4"
    types = frozenset({"IP_ADDRESS"})
    triggers: tuple[str, ...] = (NUMBER_RUN_TRIGGER,)
    score = 0.7
    version_like_score = 0.45

    def find(self, doc: Document) -> Iterator[Finding]:
        for run in doc.number_runs:
            if run.hi - run.lo < 3:
                continue
            gaps = run.parts[1::2]
            if gaps.count(".") < 3:
                continue
            for i in range(run.lo, run.hi - 2):
                if gaps[i] != "." or gaps[i + 1] != "." or gaps[i + 2] != ".":
                    continue
                if i > 0 and gaps[i - 1] == ".":
                    continue
                if i + 3 < len(gaps) and gaps[i + 3] == ".":
                    continue
                if _octets(run.parts, i):
                    start, end = run.span(i, i + 3)
                    score = self.version_like_score if end - start == 7 else self.score
                    yield Finding(start, end, "IP_ADDRESS", score, self.name)
