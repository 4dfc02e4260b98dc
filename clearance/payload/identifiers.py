"""Identifiers — object keys, ids, tool and model names — read for the values glued into them.

An identifier glues words together (``call_4111…``, ``chatcmpl-536-22-…``, ``noteAKIA…``), and a detector that wants
a word boundary before or after a value would miss it there. ``IdentifierScan`` also reads the identifier from each
place a new word could start (after a separator, where letters turn to digits or back, where lower case turns upper:
at most ``MAX_WORD_STARTS``), cut at each separator after it, and with every separator run as a space. The request
side refuses an identifier that holds a value the policy masks (``clearance.enforce.inspector``); the answer side
replaces it (``Masker.identifier``).

Findings depend only on the scanner, so one ``IdentifierScan`` per application remembers them (a bounded cache):
the same keys and names recur in every request and every stream event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from clearance.models import Finding

Scan = Callable[[str], Sequence[Finding]]

SEPARATORS = re.compile(r"[^0-9A-Za-z]+")
_WORD_START = re.compile(r"(?<=[^0-9A-Za-z])[0-9A-Za-z]|(?<=[A-Za-z])[0-9]|(?<=[0-9])[A-Za-z]|(?<=[a-z])[A-Z]")
MAX_WORD_STARTS = 32
MAX_VARIANTS = 96
CACHED_STRINGS = 4096
CACHED_CHARS = 128


class IdentifierScan:
    """``scan(value)``: the findings in an identifier, read whole and from each word start (types only: the offsets
    index the variant they were found in). Remembered for identifiers of at most ``CACHED_CHARS`` characters."""

    __slots__ = ("_cache", "_scan")

    def __init__(self, scan: Scan) -> None:
        self._scan = scan
        self._cache: dict[str, list[Finding]] = {}

    def __call__(self, value: str) -> list[Finding]:
        cached = self._cache.get(value)
        if cached is not None:
            return cached
        found = list(self._scan(value))
        for variant in _variants(value):
            found += self._scan(variant)
        if len(value) <= CACHED_CHARS:
            if len(self._cache) >= CACHED_STRINGS:
                self._cache.clear()
            self._cache[value] = found
        return found


def _variants(value: str) -> list[str]:
    """``value`` read from each word start, cut at each separator after it (a token glued on both sides,
    ``pay_ghp_…_then``), and with every separator run as a space: at most ``MAX_VARIANTS``, suffixes first."""
    starts = [0, *(m.start() for m in _WORD_START.finditer(value))][: MAX_WORD_STARTS + 1]
    ends = [m.start() for m in SEPARATORS.finditer(value) if m.start() > 0]
    out = [value[i:] for i in starts[1:]]
    out.append(SEPARATORS.sub(" ", value))
    for i in starts:
        for j in ends:
            if len(out) >= MAX_VARIANTS:
                break
            if j > i:
                out.append(value[i:j])
    return [v for v in dict.fromkeys(out) if v and v != value]
