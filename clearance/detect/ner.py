"""The optional PERSON detector: named-entity recognition with spaCy.

Off by default: the default engine is pure pattern matching and fast. Enabling it (``detection.ner.enabled``)
needs the ``ner`` extra (``pip install 'clearance[ner]'``) and a spaCy pipeline with an NER component
(``python -m spacy download en_core_web_sm``); either missing is a configuration error that says which.
spaCy is imported only then.

``NerDetector`` adapts any callable that returns an object with spaCy-like ``ents`` (each with ``label_``,
``start_char``, ``end_char``), so other NER engines can be plugged in the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from clearance.detect.base import Detector, Document
from clearance.models import Finding

NlpPipeline = Callable[[str], Any]
DEFAULT_LABELS: Mapping[str, str] = {"PERSON": "PERSON", "PER": "PERSON"}


class NerUnavailable(RuntimeError):
    """The NER plug-in cannot be loaded; the message says what to install."""


class NerDetector(Detector):
    name = "ner"
    triggers: tuple[str, ...] = ()

    def __init__(self, nlp: NlpPipeline, *, labels: Mapping[str, str] = DEFAULT_LABELS, score: float = 0.85) -> None:
        self._nlp = nlp
        self._labels = dict(labels)
        self.types = frozenset(self._labels.values())
        self.score = score

    def find(self, doc: Document) -> Iterator[Finding]:
        n = len(doc.text)
        for ent in self._nlp(doc.text).ents:
            type_ = self._labels.get(ent.label_)
            start, end = int(ent.start_char), int(ent.end_char)
            if type_ is not None and 0 <= start < end <= n:
                yield Finding(start, end, type_, self.score, self.name)


def load_spacy(model: str) -> NlpPipeline:
    """Load a spaCy pipeline by name, keeping only what NER needs."""
    try:
        spacy = importlib.import_module("spacy")
    except ImportError:
        raise NerUnavailable(
            "the NER plug-in needs spaCy: install the extra with pip install 'clearance[ner]'"
        ) from None
    try:
        nlp = spacy.load(model, exclude=["parser", "lemmatizer", "textcat"])
    except OSError:
        raise NerUnavailable(
            f"spaCy model {model!r} is not installed: install it (python -m spacy download {model}) "
            "or set detection.ner.model to one that is"
        ) from None
    if "ner" not in nlp.pipe_names:
        raise NerUnavailable(f"spaCy model {model!r} has no 'ner' component: choose a model with one")
    return nlp  # type: ignore[no-any-return]


def spacy_detector(model: str, *, labels: Iterable[str] = ("PERSON", "PER"), score: float = 0.85) -> NerDetector:
    return NerDetector(load_spacy(model), labels={label: "PERSON" for label in labels}, score=score)
