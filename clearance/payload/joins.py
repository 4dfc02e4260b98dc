"""Values split across texts: half a card in one message and the rest in the next is still a card.

Texts are *adjacent* when they come one after the other in the request walk's document order (``extract.walk``):
consecutive messages, content parts, prompt list items, embeddings inputs. A model reads them as one document, so
the gateway does too, at the joins: around each join it scans a window of ``WINDOW`` characters on either side,
with the texts joined directly and with a space between them (a value split at a group boundary, "4111 1111" +
"1111 1111", reads as one either way). Windows that overlap are scanned as one, so a value spread over several
short texts is found whole; each join is also scanned between its two texts alone, so the text before a value
cannot glue onto it. A finding that crosses a join is returned as its pieces, one per text it touches, so each
piece is masked where it lies. Findings inside one text are the per-text scan's job and are not returned.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from clearance.models import Finding

Scan = Callable[[str], Sequence[Finding]]

WINDOW = 256
"""Characters scanned on each side of a join: longer than any single-line value a detector reports."""
SEPARATORS = ("", " ")


@dataclass(frozen=True, slots=True)
class SplitFinding:
    """One value that crosses at least one join: its type, and its piece in each text it touches."""

    type: str
    pieces: tuple[tuple[int, Finding], ...]
    """(index of the text in the sequence given, the finding's part of that text)."""


def split_findings(texts: Sequence[str], scan: Scan) -> list[SplitFinding]:
    """Every value crossing a join between consecutive ``texts``, once each."""
    if len(texts) < 2:
        return []
    seen: set[tuple[tuple[int, int, int], ...]] = set()
    out: list[SplitFinding] = []
    # A space adds nothing at a join that already has whitespace on either side; with two texts, the merged
    # window is the pair's own window.
    spaced = any(_bare_join(a, b) for a, b in pairwise(texts))
    for separator in SEPARATORS if spaced else SEPARATORS[:1]:
        pairs = _scan_pairs(texts, separator, scan) if len(texts) > 2 else []
        for found in [*_scan_joins(texts, separator, scan), *pairs]:
            key = tuple((i, f.start, f.end) for i, f in found.pieces)
            if key not in seen:
                seen.add(key)
                out.append(found)
    return out


def _bare_join(left: str, right: str) -> bool:
    """Whether neither side of a join is whitespace there (so joining with a space reads differently)."""
    return bool(left) and bool(right) and not left[-1].isspace() and not right[0].isspace()


def _scan_joins(texts: Sequence[str], separator: str, scan: Scan) -> list[SplitFinding]:
    starts: list[int] = []
    offset = 0
    for text in texts:
        starts.append(offset)
        offset += len(text) + len(separator)
    document = separator.join(texts)
    out: list[SplitFinding] = []
    for lo, hi in _windows(texts, starts, len(document)):
        for finding in scan(document[lo:hi]):
            pieces = _pieces(texts, starts, lo + finding.start, lo + finding.end, finding)
            if len(pieces) > 1:
                out.append(SplitFinding(finding.type, pieces))
    return out


def _scan_pairs(texts: Sequence[str], separator: str, scan: Scan) -> list[SplitFinding]:
    """Each join on its own, between its two texts only: in the merged windows the text before a value's first
    piece is glued to it ("look it up" + "ghp_…" reads "upghp_…", no token), and a detector that wants a word
    boundary before a value's prefix would not see it."""
    out: list[SplitFinding] = []
    for i in range(len(texts) - 1):
        left, right = texts[i][-WINDOW:], texts[i + 1][:WINDOW]
        if not left or not right:
            continue
        shift = len(texts[i]) - len(left)
        right_start = len(left) + len(separator)
        for f in scan(left + separator + right):
            if f.start < len(left) and f.end > right_start:
                pieces = (
                    (i, Finding(shift + f.start, len(texts[i]), f.type, f.score, f.detector)),
                    (i + 1, Finding(0, min(f.end - right_start, len(right)), f.type, f.score, f.detector)),
                )
                out.append(SplitFinding(f.type, pieces))
    return out


def _windows(texts: Sequence[str], starts: list[int], size: int) -> list[tuple[int, int]]:
    """The merged ranges of the document within ``WINDOW`` characters of a join."""
    ranges: list[tuple[int, int]] = []
    for i in range(len(texts) - 1):
        lo = max(0, starts[i] + len(texts[i]) - WINDOW)
        hi = min(size, starts[i + 1] + WINDOW)
        if ranges and lo <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], hi)
        else:
            ranges.append((lo, hi))
    return ranges


def _pieces(
    texts: Sequence[str], starts: list[int], start: int, end: int, finding: Finding
) -> tuple[tuple[int, Finding], ...]:
    """The parts of ``[start, end)`` of the document that lie in each text (separators belong to none)."""
    pieces = []
    i = bisect_right(starts, start) - 1
    while i < len(texts) and starts[i] < end:
        lo, hi = max(start, starts[i]), min(end, starts[i] + len(texts[i]))
        if lo < hi:
            pieces.append((i, Finding(lo - starts[i], hi - starts[i], finding.type, finding.score, finding.detector)))
        i += 1
    return tuple(pieces)
