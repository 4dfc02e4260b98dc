"""Run one detector on a text the way the scanner does (normalised document), and read findings back."""

from __future__ import annotations

from clearance.detect.base import Detector, Document
from clearance.detect.normalize import Normalizer
from clearance.models import Finding


def document(text: str) -> Document:
    normalized, offsets = Normalizer().normalize(text)
    return Document(text, normalized, offsets)


def found(detector: Detector, text: str) -> list[Finding]:
    return list(detector.find(document(text)))


def values(detector: Detector, text: str, *, min_score: float = 0.0) -> list[str]:
    """The text of each finding scoring at least ``min_score`` (test texts are ASCII: offsets are the text's)."""
    return [text[f.start : f.end] for f in found(detector, text) if f.score >= min_score]
