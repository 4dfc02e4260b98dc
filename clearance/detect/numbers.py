"""Number runs: the shared candidates of every numeric detector (cards, SSNs, phones, bank numbers, IPv4).

One regular-expression pass finds each run of digits joined by separators (space, ``-``, ``.``, ``/``,
parentheses) that is at least seven characters long; detectors then reason about its digit groups and the gaps
between them instead of each scanning the whole text with patterns of their own. The pass reads the text's
skeleton (``skeleton.py``), where every digit is ``0``, so that the engine finds digits by a literal search.

A run is *glued* to a neighbouring token when it touches a letter, digit or underscore, directly or through a
``-``, ``.`` or ``/`` (``a456-4266141740``, ``v1.2.3.4``, ``Chrome/120.0.6099``): such groups belong to an
identifier (a UUID, a hash, a version string) and are not offered to detectors. A run never starts glued (the
pattern skips such digits); at its right end, ``hi`` is the last group that is free of the token that follows.
A run with no free group is not returned at all, nor is a run that is exactly a date or the seconds of a time.
"""

from __future__ import annotations

import re
from itertools import accumulate

from clearance.detect.skeleton import ascii_view, skeleton

# A run starts at a digit that is not glued to a token on its left (the look-behinds follow the first digit so
# that the engine can still skip quickly to digits), and spans at least seven characters. Over the skeleton:
# digits are 0, letters A or a. The seconds of a time after a colon, with nothing but digits and single joiners
# up to the end of the run (":45.123456"), are passed over inside the engine: logs are full of them, and each
# would otherwise be rejected in Python (the same test below rejects the rest of that kind).
_RUN = re.compile(
    rb"0(?<![Aa0_]0)(?<![Aa0_][\-./]0)"
    rb"(?!(?<=:0)(?=0?\.)(?>0*(?:[\-./]0+)*)(?>[ \-./()]*)(?!0))"
    rb"(?=[0 \-./()]{6})[0 \-./()]*"
)
# The trigger of every detector that reads number runs: it matches wherever a run starts (a digit and six more
# run characters), and its automaton is small, so it costs the trigger pass little (see prefilter.py).
NUMBER_RUN_TRIGGER = r"[0-9][0-9 \-./()]{6}"
_SPLIT = re.compile(r"([^0-9]+)", re.ASCII)
_TRAILING = " -./()"
# Dates are the commonest number runs in logs and never any entity: 2024-01-15, 15.01.2024, 01/15/24.
_DATE = re.compile(
    r"[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([-/.])[0-9]{1,2}\2(?:[0-9]{4}|[0-9]{2})",
    re.ASCII,
)
_JOINERS = "-./"
_FREE_AFTER = frozenset(" \t\r\n,;:!?)]}>\"'")


class NumberRun:
    """Digit groups and the separators (gaps) between them, at absolute offsets in the text.

    ``parts`` alternates groups and gaps: ``("2024", "-", "01", "-", "15")``; group ``k`` is ``parts[2k]``, and
    ``raw`` is the run's text. Detectors visit every group of every run, so the methods here read ``parts``
    directly rather than call one another.
    """

    __slots__ = ("_offsets", "end", "hi", "lo", "ndigits", "parts", "raw", "sizes", "start", "text")

    def __init__(self, text: str, start: int, raw: str, parts: list[str], lo: int, hi: int) -> None:
        self.text = text
        self.start = start
        self.end = start + len(raw)
        self.raw = raw
        self.parts = parts
        self.sizes = sizes = tuple(map(len, parts[0::2]))
        self.lo = lo
        self.hi = hi
        self.ndigits = sum(sizes) if hi == len(sizes) - 1 and lo == 0 else sum(sizes[lo : hi + 1])
        self._offsets: list[int] | None = None

    @property
    def offsets(self) -> list[int]:
        """Where each part starts (and, last, where the run ends); computed when a detector needs a position."""
        if self._offsets is None:
            self._offsets = list(accumulate(map(len, self.parts), initial=self.start))
        return self._offsets

    def gap(self, k: int) -> str:
        """The separator between group ``k`` and group ``k + 1``."""
        return self.parts[2 * k + 1]

    def digits(self, i: int, j: int) -> str:
        """The digits of groups ``i``..``j`` (inclusive), separators dropped."""
        return "".join(self.parts[2 * i : 2 * j + 1 : 2])

    def joined_before(self, i: int) -> bool:
        """Group ``i`` continues the group before it without a space (``12-34``, ``1.2``)."""
        return i > 0 and " " not in self.parts[2 * i - 1]

    def joined_after(self, j: int) -> bool:
        return 2 * j + 1 < len(self.parts) and " " not in self.parts[2 * j + 1]

    def isolated(self, i: int, j: int) -> bool:
        """Groups ``i``..``j`` stand alone: free, and not joined to a neighbouring group without a space."""
        parts = self.parts
        return (
            self.lo <= i
            and j <= self.hi
            and (i == 0 or " " in parts[2 * i - 1])
            and (2 * j + 1 >= len(parts) or " " in parts[2 * j + 1])
        )

    def span(self, i: int, j: int) -> tuple[int, int]:
        offsets = self.offsets
        return offsets[2 * i], offsets[2 * j + 1]


def _glued_right(text: str, end: int) -> bool:
    if end >= len(text):
        return False
    after = text[end]
    if after.isalnum() or after == "_":
        # "415-555-2671x123": an extension, not a longer token.
        return not (after in "xX" and end + 1 < len(text) and text[end + 1].isdigit())
    return after in _JOINERS and end + 1 < len(text) and (text[end + 1].isalnum() or text[end + 1] == "_")


def find_number_runs(text: str, classes: bytes | None = None) -> tuple[NumberRun, ...]:
    """The number runs of ``text``; ``classes`` is its skeleton, when the caller has it already."""
    runs: list[NumberRun] = []
    n = len(text)
    for match in _RUN.finditer(skeleton(ascii_view(text)) if classes is None else classes):
        start, end = match.span()
        raw = text[start:end]
        if raw[-1] in _TRAILING:
            raw = raw.rstrip(_TRAILING)
            if len(raw) < 7:
                continue
            end = start + len(raw)
        glued_right = end < n and text[end] not in _FREE_AFTER and _glued_right(text, end)
        if glued_right and " " not in raw:
            continue
        if len(raw) <= 10 and " " not in raw and not raw.isdigit() and _DATE.fullmatch(raw):
            continue
        if start > 0 and text[start - 1] == ":" and raw[1:3].find(".") >= 0 and " " not in raw:
            continue  # the seconds of a time: 10:23:45.123456
        parts = [raw] if raw.isdigit() else _SPLIT.split(raw)
        last = len(parts) // 2
        hi = last
        if glued_right:
            hi = last - 1
            while hi >= 0 and " " not in parts[2 * hi + 1]:
                hi -= 1
        if hi >= 0:
            runs.append(NumberRun(text, start, raw, parts, 0, hi))
    return tuple(runs)
