"""The detector contract and the document every detector reads.

A ``Detector`` finds one or more entity types in a ``Document`` and yields ``Finding``s whose offsets index the
document's normalised ``text``; the ``Scanner`` maps them back to the caller's original text, applies context
scoring, exclusions and overlap resolution. A detector never rewrites text and keeps no state between calls, so
one instance serves every request and every thread.

``triggers`` are RE2 patterns: the scanner runs all detectors' triggers in one pass (an ``re2.Set``) and calls
``find`` only on detectors with a trigger that matched somewhere. A detector with no triggers always runs. A
trigger must match wherever the detector could find something (it may match more often), so it only ever saves
work and never changes results.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from mypy_extensions import mypyc_attr

from clearance.detect.normalize import OffsetMap
from clearance.detect.numbers import NumberRun, find_number_runs
from clearance.detect.skeleton import ascii_view, skeleton
from clearance.models import Finding


class Document:
    """One text being scanned: its normalised form plus candidates that several detectors share.

    Shared candidates (``number_runs``, ``lower``) and byte views of the text (``ascii``, ``skeleton``) are
    computed on first use, once per scan.
    """

    __slots__ = ("_ascii", "_lower", "_runs", "_skeleton", "offsets", "original", "text")

    def __init__(self, original: str, text: str, offsets: OffsetMap) -> None:
        self.original = original
        self.text = text
        self.offsets = offsets
        self._lower: str | None = None
        self._runs: tuple[NumberRun, ...] | None = None
        self._ascii: bytes | None = None
        self._skeleton: bytes | None = None

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

    def value(self, finding: Finding) -> str:
        """The normalised text a finding covers. For validation and exclusions only: never log it."""
        return self.text[finding.start : finding.end]


# Compiled with mypyc in a regular install (see setup.py); custom detectors and plug-ins are interpreted classes.
@mypyc_attr(allow_interpreted_subclasses=True)
class Detector(ABC):
    """Finds entities of ``types`` in a document. Subclasses set the class attributes and implement ``find``.

    ``name`` is unique in a scanner and is recorded in each ``Finding.detector``. ``find`` yields findings with
    a base ``score`` in [0, 1]; context rules may raise or lower it later, and findings under the scanner's
    ``min_score`` are dropped, so a detector can propose weak candidates (a bare 9-digit number as an SSN) and
    let context decide.
    """

    name: str = ""
    types: frozenset[str] = frozenset()
    triggers: tuple[str, ...] = ()

    @abstractmethod
    def find(self, doc: Document) -> Iterator[Finding]:
        """Yield findings in ``doc.text`` coordinates (start inclusive, end exclusive)."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"
