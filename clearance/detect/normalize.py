"""Normalisation: fold the Unicode forms people use to slip data past pattern matching.

Detection runs on a normalised copy of the text in which

* compatibility forms are folded to ASCII: full-width letters, digits and punctuation (U+FF14 FULLWIDTH
  DIGIT FOUR → ``4``), decimal digits of every script (U+0664 ARABIC-INDIC DIGIT FOUR → ``4``), Unicode spaces
  and dashes;
* zero-width and other invisible characters (ZWSP, ZWJ, soft hyphen, BOM, bidi controls, tag characters…) are
  removed.

Folding never changes a character into more than one, so the only thing that moves offsets is removal, and an
``OffsetMap`` takes every span of the normalised text back to the original text. Plain ASCII text (the common
case) is returned as is, with no work done.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Mapping
from types import MappingProxyType

import re2

_INVISIBLE_RANGES = (
    (0x00AD, 0x00AD),  # soft hyphen
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x061C, 0x061C),  # Arabic letter mark
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors and vowel separator
    (0x200B, 0x200F),  # zero-width space, joiners, LRM/RLM
    (0x202A, 0x202E),  # bidi embeddings and overrides
    (0x2060, 0x2064),  # word joiner, invisible operators
    (0x2066, 0x206F),  # bidi isolates, deprecated format characters
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFEFF, 0xFEFF),  # byte order mark / zero-width no-break space
    (0xFFA0, 0xFFA0),  # half-width Hangul filler
    (0x1D173, 0x1D17A),  # musical formatting characters
    (0xE0000, 0xE007F),  # tag characters
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

_SPACES = (0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F, 0x3000)
_DASHES = (*range(0x2010, 0x2016), 0x2212, 0xFE58, 0xFE63)


def _invisible_class() -> str:
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _INVISIBLE_RANGES)


@functools.cache
def _fold_table() -> Mapping[int, int | None]:
    """The ``str.translate`` table: one character to one or none. Built once; read-only."""
    table: dict[int, int | None] = {}
    for lo, hi in _INVISIBLE_RANGES:
        for cp in range(lo, hi + 1):
            table[cp] = None
    for cp in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[cp] = cp - 0xFEE0
    for cp in _SPACES:
        table[cp] = 0x20
    for cp in _DASHES:
        table[cp] = 0x2D
    table[0xFE6B] = 0x40  # small commercial at
    for cp in range(0x80, 0x1FC00):  # decimal digits of every script
        value = unicodedata.decimal(chr(cp), -1)
        if value >= 0:
            table[cp] = 0x30 + value
    return MappingProxyType(table)


def _class_of(codepoints: Mapping[int, object]) -> str:
    """A regular-expression character class body matching exactly ``codepoints``' keys."""
    ranges: list[tuple[int, int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return "".join(f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in ranges)


class OffsetMap:
    """Maps spans of the normalised text back to the original text.

    ``removed`` holds, for each removed character in order, the number of kept characters before it.
    """

    __slots__ = ("_removed",)

    def __init__(self, removed: tuple[int, ...]) -> None:
        self._removed = removed

    @property
    def identity(self) -> bool:
        return not self._removed

    def position(self, index: int) -> int:
        """The original index of the kept character at normalised ``index``."""
        return index + bisect_right(self._removed, index)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised ``[start, end)``; invisible characters inside it stay inside it."""
        if not self._removed:
            return start, end
        if end <= start:
            pos = self.position(start)
            return pos, pos
        return self.position(start), self.position(end - 1) + 1


_IDENTITY = OffsetMap(())


class Normalizer:
    """Folds a text for detection. Stateless after construction; safe to share between threads."""

    def __init__(self) -> None:
        self._table = _fold_table()
        self._invisible = re.compile(f"[{_invisible_class()}]")
        options = re2.Options()
        options.log_errors = False
        self._foldable = re2.compile(f"[{_class_of(self._table)}]", options)
        # The foldable characters that Latin-1 text can hold (the no-break space and the soft hyphen), as bytes.
        self._latin1_foldable = tuple(bytes([cp]) for cp in sorted(self._table) if cp < 0x100)

    def normalize(self, text: str) -> tuple[str, OffsetMap]:
        if text.isascii() or not self._may_fold(text):
            return text, _IDENTITY
        folded = text.translate(self._table)
        if len(folded) == len(text):
            return folded, _IDENTITY
        removed = tuple(m.start() - i for i, m in enumerate(self._invisible.finditer(text)))
        return folded, OffsetMap(removed)

    def _may_fold(self, text: str) -> bool:
        """Whether non-ASCII ``text`` holds a character to fold. Most does not (accented names, CJK prose), and
        finding that out must cost little: Latin-1 text is encoded (a copy) and searched for the two foldable
        characters it can hold; other text goes to RE2, one pass over its UTF-8 (``str.translate`` would look
        every character up in the table)."""
        try:
            latin1 = text.encode("latin-1")
        except UnicodeEncodeError:
            return self._foldable.search(text) is not None
        return any(ch in latin1 for ch in self._latin1_foldable)
