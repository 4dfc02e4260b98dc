"""The document every detector reads: a text's normalised form and the candidates several detectors share.

Compiled with mypyc with the rest of the detection engine (see setup.py): detectors read its properties for
every text. It is defined here rather than in ``base.py``, which stays interpreted so that plug-in detectors
subclass a plain Python ``Detector``; ``base.py`` re-exports it.
"""

from __future__ import annotations

from clearance.detect.labels import identifier_words, key_before
from clearance.detect.normalize import OffsetMap
from clearance.detect.numbers import NumberRun, find_number_runs, find_spaced_runs
from clearance.detect.skeleton import ascii_view, skeleton
from clearance.detect.sql_labels import insert_column
from clearance.detect.tables import Tables
from clearance.models import Finding


class Document:
    """One text being scanned: its normalised form plus candidates that several detectors share.

    Shared candidates (``number_runs``, ``lower``) and byte views of the text (``ascii``, ``skeleton``) are
    computed on first use, once per scan.
    """

    __slots__ = ("_ascii", "_lower", "_runs", "_skeleton", "_spaced", "_tables", "offsets", "original", "text")

    def __init__(self, original: str, text: str, offsets: OffsetMap) -> None:
        self.original = original
        self.text = text
        self.offsets = offsets
        self._lower: str | None = None
        self._runs: tuple[NumberRun, ...] | None = None
        self._spaced: tuple[NumberRun, ...] | None = None
        self._ascii: bytes | None = None
        self._skeleton: bytes | None = None
        self._tables: Tables | None = None

    @property
    def lower(self) -> str:
        """``text`` in lower case, with the same length (characters whose lower case is longer are kept)."""
        if self._lower is None:
            lowered = self.text.lower()
            if len(lowered) != len(self.text):
                lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in self.text)
            self._lower = lowered
        return self._lower

    @property
    def ascii(self) -> bytes:
        """``text`` as bytes, one per character (non-ASCII ones as ``?``): see ``skeleton.ascii_view``."""
        if self._ascii is None:
            self._ascii = ascii_view(self.text)
        return self._ascii

    @property
    def skeleton(self) -> bytes:
        """The character classes of ``text``, one byte per character: see ``skeleton.skeleton``."""
        if self._skeleton is None:
            self._skeleton = skeleton(self.ascii)
        return self._skeleton

    @property
    def number_runs(self) -> tuple[NumberRun, ...]:
        """Runs of digits and separators long enough to hold a number worth validating."""
        if self._runs is None:
            self._runs = find_number_runs(self.text, self.skeleton)
        return self._runs

    @property
    def spaced_runs(self) -> tuple[NumberRun, ...]:
        """Digit groups joined by one separator, any one, used every time: see ``numbers.find_spaced_runs``."""
        if self._spaced is None:
            self._spaced = find_spaced_runs(self.text, self.skeleton)
        return self._spaced

    def field_label(self, start: int, end: int) -> str:
        """The words that name the field ``text[start:end]`` sits in (``""``: none): its column's header in a
        table (``tables.py``) or in an ``INSERT … VALUES`` statement (``sql_labels.py``), then the key right
        before it (``labels.key_before``), as identifier words.

        Context rules read them as if written right before the value. The tables are parsed on the first call
        whose span lies on a line holding a delimiter, once per document."""
        if self._tables is None:
            self._tables = Tables(self.text)
        # The column list of an INSERT statement names its values more surely than a comma "table" of its rows.
        column = insert_column(self.text, self.lower, start, end) or self._tables.label(start, end)
        key = key_before(self.text, start)
        if not key:
            return column
        words = identifier_words(key)
        return f"{column} {words}" if column else words

    def value(self, finding: Finding) -> str:
        """The normalised text a finding covers. For validation and exclusions only: never log it."""
        return self.text[finding.start : finding.end]
