"""Overlap resolution: the findings that survive are pairwise disjoint, chosen the same way every time.

Candidates are taken in order of level (most sensitive first, when a ``LevelScheme`` is given), then score
(highest first), then length (longest first), then position, type and detector name; each one that overlaps none
already taken is kept. A more sensitive finding wins over a less sensitive one on the same characters (a card
used as an e-mail local part is a card, not an address the policy lets through; a connection string wins over the
e-mail look-alike inside it); among equals a more certain one wins (a JWT over a generic API key), and a longer
one wins a tie. The result is sorted by position.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from operator import attrgetter

from clearance.levels import LevelScheme
from clearance.models import Finding

_POSITION = attrgetter("start", "end")


def _priority(f: Finding) -> tuple[float, int, int, str, str]:
    return (-f.score, f.start - f.end, f.start, f.type, f.detector)


def resolve_overlaps(findings: Iterable[Finding], levels: LevelScheme | None = None) -> list[Finding]:
    """Resolve each cluster of mutually overlapping findings on its own: the same result as one greedy pass over
    all of them (findings of different clusters never overlap), in O(n log n) however many there are."""
    ordered = sorted(findings, key=_POSITION)
    end = 0
    for f in ordered:
        if f.start < end:
            break
        end = f.end
    else:
        return ordered  # already disjoint: the common case
    kept: list[Finding] = []
    cluster: list[Finding] = []
    cluster_end = -1
    for f in ordered:
        if cluster and f.start >= cluster_end:
            kept.extend(cluster if len(cluster) == 1 else _greedy(cluster, levels))
            cluster = []
        if not cluster:
            cluster_end = f.end
        cluster.append(f)
        cluster_end = max(cluster_end, f.end)
    if cluster:
        kept.extend(cluster if len(cluster) == 1 else _greedy(cluster, levels))
    return kept


def _greedy(findings: list[Finding], levels: LevelScheme | None) -> list[Finding]:
    starts: list[int] = []
    ends: list[int] = []
    kept: list[Finding] = []
    ordered = sorted(findings, key=_priority)
    if levels is not None:
        # Stable: equals keep their order by certainty and length.
        ordered.sort(key=lambda f: -levels.rank(levels.level_of(f.type)))
    for f in ordered:
        i = bisect_right(starts, f.start)
        if (i > 0 and ends[i - 1] > f.start) or (i < len(starts) and starts[i] < f.end):
            continue
        starts.insert(i, f.start)
        ends.insert(i, f.end)
        kept.insert(i, f)
    return kept
