from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.base import Detector, Document
from clearance.detect.prefilter import OVERLAP, WINDOW, TriggerSet
from clearance.detect.registry import builtin_registry
from clearance.detect.scanner import Scanner
from clearance.models import Finding


class _Probe(Detector):
    def __init__(self, name: str, triggers: tuple[str, ...]) -> None:
        self.name = name
        self.triggers = triggers

    def find(self, doc: Document) -> Iterator[Finding]:
        return iter(())


def test_when_no_trigger_matches_then_only_trigger_free_detectors_run() -> None:
    always, at, digits = _Probe("always", ()), _Probe("at", ("@",)), _Probe("digits", ("[0-9]{3}",))
    triggers = TriggerSet([always, at, digits])
    assert triggers.select("no such thing") == [always]
    assert triggers.select("a@b 123") == [always, at, digits]


def test_when_a_trigger_lies_past_the_first_window_then_it_is_still_seen() -> None:
    at = _Probe("at", ("@",))
    text = "x" * (3 * WINDOW + OVERLAP) + "@"
    assert TriggerSet([at]).select(text) == [at]


def test_when_a_trigger_is_not_re2_then_the_error_names_the_detector() -> None:
    with pytest.raises(ValueError, match="'bad'"):
        TriggerSet([_Probe("bad", ("(a)\\1",))])


_PIECES = st.sampled_from([
    "card 4111 1111 1111 1111", "jo@acme.io", "SSN 123-45-6789", "(415) 555-2671", "10.1.2.3", "fe80::1",
    "DE89 3704 0044 0532 0130 00", "password=Tr0ub4dor&3", "ghp_" + "aB3dE5fG7h" * 3 + "aB3dE5", "routing 011000015",
    " ", "\n", "2024-01-15", "v1.2.3", "word", ":", "-", "#",
])  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(st.lists(_PIECES, max_size=12))
def test_property_the_trigger_pass_never_changes_findings(pieces: list[str]) -> None:
    text = "".join(pieces)
    detectors = builtin_registry().create_all()
    with_triggers = Scanner(detectors)
    untriggered = [_Untriggered(d) for d in detectors]
    assert with_triggers.scan(text) == Scanner(untriggered).scan(text)


class _Untriggered(Detector):
    """Wraps a detector without its triggers, so it always runs."""

    def __init__(self, inner: Detector) -> None:
        self.inner = inner
        self.name = inner.name
        self.types = inner.types

    def find(self, doc: Document) -> Iterator[Finding]:
        return iter(self.inner.find(doc))
