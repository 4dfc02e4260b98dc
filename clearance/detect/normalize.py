"""Normalisation: fold the Unicode forms people use to slip data past pattern matching.

Detection runs on a normalised copy of the text in which

* every character whose compatibility form (NFKC) is one ASCII character becomes that character: full-width
  letters, digits and punctuation (U+FF14 FULLWIDTH DIGIT FOUR → ``4``), superscript and subscript digits
  (``¹``, ``₂``), circled letters and digits (``④``, ``Ⓐ``), mathematical alphanumerics (U+1D7D2
  MATHEMATICAL BOLD DIGIT FOUR → ``4``), the one-dot leader (U+2024 → ``.``)…; so does a character whose
  compatibility form is one ASCII letter or digit wrapped in ASCII punctuation (parenthesised ``⑷`` and ``⒜``,
  ``⒋`` DIGIT FOUR FULL STOP → ``4``);
* decimal digits of every script become ASCII digits (U+0664 ARABIC-INDIC DIGIT FOUR → ``4``), Unicode spaces
  (category Zs) a space, dashes (Pd, and the minus sign) ``-``, and line breaks (U+2028, U+2029, NEL, vertical
  tab, form feed) a newline;
* characters that show nothing between the characters of a value are removed: every format character (category
  Cf: zero-width space and joiners, bidi controls, soft hyphen, BOM, tag characters…), every combining mark
  (Mn, Me), every control character (Cc) but tab, line feed and carriage return, which stay as the separators
  they are, DEL, and the fillers that render as nothing (Hangul fillers).

The table is computed from ``unicodedata`` once per process. Enclosed numbers of two digits (``⑩``, ``⒑``) and
other forms whose compatibility form holds several letters or digits are left as they are: folding never
changes a character into more than one, so the only thing that moves offsets is removal, and an ``OffsetMap``
takes every span of the normalised text back to the original text. Plain ASCII text (the common case) costs one
byte pass to prove it holds no control character, and is then returned as is.
"""

from __future__ import annotations

import functools
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from types import MappingProxyType

import re2

# Characters that render as nothing but are letters (Lo) or have no category that says so.
_FILLERS = (0x115F, 0x1160, 0x3164, 0xFFA0)
_LINE_BREAKS = (0x0B, 0x0C, 0x85, 0x2028, 0x2029)
# Tab, line feed and carriage return are separators, kept as they are.
_KEPT_CONTROLS = (0x09, 0x0A, 0x0D)
_REMOVED_CATEGORIES = frozenset({"Cf", "Cc", "Mn", "Me"})
# Every character with a fold is below U+20000 but the tag characters and variation selectors of plane 14.
_SCANNED = (range(0x00, 0x20000), range(0xE0000, 0xE0200))


_KEPT = -1


def _fold(cp: int) -> int | None:
    """What code point ``cp`` folds to: a code point, None (removed), or ``_KEPT`` (kept as it is)."""
    if 0x20 <= cp < 0x7F or cp in _KEPT_CONTROLS:
        return _KEPT
    if cp in _LINE_BREAKS:
        return 0x0A
    ch = chr(cp)
    category = unicodedata.category(ch)
    if category in _REMOVED_CATEGORIES or cp in _FILLERS:
        return None
    if category == "Zs":
        return 0x20
    if category == "Pd" or cp == 0x2212:  # the minus sign is Sm
        return 0x2D
    value = unicodedata.decimal(ch, -1)
    if value >= 0:
        return 0x30 + value
    compat = unicodedata.normalize("NFKC", ch)
    if compat == ch or not compat.isascii():
        return _KEPT
    if len(compat) == 1 and compat.isprintable():
        return ord(compat)
    # ⑷ is "(4)" and ⒋ is "4.": one letter or digit in ASCII punctuation stands for that letter or digit.
    alnum = [c for c in compat if c.isalnum()]
    return ord(alnum[0]) if len(alnum) == 1 else _KEPT


# Removed characters are first translated to this one (itself removed, so nothing else becomes it), and then
# split out: the pieces' lengths are the removed characters' positions.
_SENTINEL = 0x200B


@functools.cache
def _fold_table() -> Mapping[int, int]:
    """The ``str.translate`` table: one character to one (``_SENTINEL`` for a removed one). Built once; read-only."""
    table: dict[int, int] = {}
    for block in _SCANNED:
        for cp in block:
            folded = _fold(cp)
            if folded is None:
                table[cp] = _SENTINEL
            elif folded != _KEPT:
                table[cp] = folded
    return MappingProxyType(table)


def _ranges(codepoints: Iterable[int]) -> list[tuple[int, int]]:
    """The sorted runs of consecutive code points in ``codepoints``, as inclusive ``(first, last)`` pairs."""
    ranges: list[tuple[int, int]] = []
    for cp in sorted(codepoints):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


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
        """The original span of normalised ``[start, end)``; removed characters inside it stay inside it."""
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
        options = re2.Options()
        options.log_errors = False
        marks = [cp for cp in self._table if unicodedata.category(chr(cp)) in ("Mn", "Me")]
        others = [cp for cp in self._table if unicodedata.category(chr(cp)) not in ("Mn", "Me")]
        # Combining marks are how Devanagari, Thai or Arabic text writes its vowels: there they follow a letter
        # and separate nothing, and folding such text character by character costs a hundred times the search.
        # A mark after an ASCII character or after anything that is not a letter or a mark (a digit, a
        # separator) is the kind that hides a value, and only that kind makes the text fold.
        self._foldable = re2.compile(
            f"[{_re2_class(others)}]|(?:[\\x00-\\x7f]|[^\\pL\\pM])[{_re2_class(marks)}]", options
        )
        # ``bytes.translate`` deletes these from a Latin-1 encoding of the text: what is left is the foldable
        # characters (controls, the no-break space, the soft hyphen, superscripts, ª and º), usually nothing.
        self._latin1_kept = bytes(cp for cp in range(0x100) if cp not in self._table)

    def normalize(self, text: str) -> tuple[str, OffsetMap]:
        if not self._may_fold(text):
            return text, _IDENTITY
        folded = text.translate(self._table)
        pieces = folded.split(chr(_SENTINEL))
        if len(pieces) == 1:
            return folded, _IDENTITY
        removed: list[int] = []
        kept = 0
        for piece in pieces[:-1]:
            kept += len(piece)
            removed.append(kept)
        return "".join(pieces), OffsetMap(tuple(removed))

    def _may_fold(self, text: str) -> bool:
        """Whether ``text`` holds a character to fold. Most text does not (plain ASCII, accented names, CJK prose),
        and finding that out must cost little: ASCII and Latin-1 text is encoded (a copy) and the bytes that cannot
        fold deleted from it in one pass (the foldable ones it can hold are controls, the no-break space, the soft
        hyphen, superscripts, ª and º); other text goes to RE2, one pass over its UTF-8 (``str.translate`` would
        look every character up in the table)."""
        try:
            latin1 = text.encode("latin-1")
        except UnicodeEncodeError:
            return self._foldable.search(text) is not None
        return bool(latin1.translate(None, self._latin1_kept))


def _re2_class(codepoints: Iterable[int]) -> str:
    """The body of an RE2 character class matching exactly ``codepoints``."""
    return "".join(f"\\x{{{lo:x}}}-\\x{{{hi:x}}}" for lo, hi in _ranges(codepoints))
