"""The detector contract and the document every detector reads.

A ``Detector`` finds one or more entity types in a ``Document`` and yields ``Finding``s whose offsets index the
document's normalised ``text``; the ``Scanner`` maps them back to the caller's original text, applies context
scoring, exclusions and overlap resolution. A detector never rewrites text and keeps no state between calls, so
one instance serves every request and every thread.

``triggers`` are RE2 patterns: the scanner runs all detectors' triggers in one pass (an ``re2.Set``) and calls
``find`` only on detectors with a trigger that matched somewhere. A detector with no triggers always runs. A
trigger must match wherever the detector could find something (it may match more often), so it only ever saves
work and never changes results.

``Document`` is defined in ``document.py``, compiled with the engine; this module stays interpreted (see
``Detector``) and re-exports it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

from clearance.detect.document import Document
from clearance.models import Finding

__all__ = ["Detector", "Document"]


# Not compiled (see setup.py), unlike the engine around it. A compiled base class keeps ``name``, ``types`` and
# ``triggers`` in native fields, and compiled code reads those fields, not the class attributes that a plug-in
# (an interpreted subclass) sets: the scanner saw such plug-ins unnamed and untriggered.
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
