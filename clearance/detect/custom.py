"""Detectors defined in configuration: RE2 regular expressions and keyword lists.

A user's regular expression runs on the data path, so it is compiled with RE2, whose matching time is linear
in the text whatever the pattern: no pattern can hang the gateway. Patterns RE2 cannot compile (back-references,
look-around) are rejected when the configuration is loaded. Keyword lists (customer names, project code names)
are matched with an Aho-Corasick automaton, in one pass whatever their number, as whole words.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import ahocorasick
import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.detect.normalize import Normalizer
from clearance.models import Finding


def compile_re2(pattern: str) -> Any:
    """Compile with RE2, or raise ``ValueError`` saying why and what to do."""
    try:
        return re2.compile(pattern, re2_options())
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise ValueError(
            f"RE2 cannot compile this pattern ({reason}); RE2 has no back-references or look-around, "
            "rewrite the pattern without them"
        ) from None


class RegexDetector(Detector):
    """Reports every non-empty match of an RE2 pattern as ``type_``."""

    def __init__(self, name: str, type_: str, pattern: str, *, score: float = 0.8) -> None:
        self.name = name
        self.types = frozenset({type_})
        self.type = type_
        self.score = score
        self.pattern = pattern
        self._regex = compile_re2(pattern)

    def find(self, doc: Document) -> Iterator[Finding]:
        for match in self._regex.finditer(doc.text):
            start, end = match.span()
            if end > start:
                yield Finding(start, end, self.type, self.score, self.name)


class KeywordDetector(Detector):
    """Reports each keyword found as a whole word (case-insensitive unless ``case_sensitive``)."""

    def __init__(
        self,
        name: str,
        type_: str,
        keywords: Iterable[str],
        *,
        case_sensitive: bool = False,
        score: float = 0.8,
    ) -> None:
        self.name = name
        self.types = frozenset({type_})
        self.type = type_
        self.score = score
        self.case_sensitive = case_sensitive
        normalizer = Normalizer()
        self._automaton = ahocorasick.Automaton()
        count = 0
        for keyword in keywords:
            folded = normalizer.normalize(keyword.strip())[0]
            if not case_sensitive:
                folded = folded.lower()
            if folded:
                self._automaton.add_word(folded, len(folded))
                count += 1
        if not count:
            raise ValueError("a keyword detector needs at least one non-empty keyword")
        self._automaton.make_automaton()

    def find(self, doc: Document) -> Iterator[Finding]:
        haystack = doc.text if self.case_sensitive else doc.lower
        n = len(haystack)
        for last, length in self._automaton.iter(haystack):
            start, end = last - length + 1, last + 1
            if (start > 0 and haystack[start - 1].isalnum()) or (end < n and haystack[end].isalnum()):
                continue
            yield Finding(start, end, self.type, self.score, self.name)
