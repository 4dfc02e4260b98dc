from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator
from types import FrameType, FunctionType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import clearance
from bench.pathological import PATHOLOGICAL, pathological_text
from clearance.config import parse_config
from clearance.detect.base import Detector, Document
from clearance.detect.scanner import Scanner, default_scanner
from clearance.models import Finding

SCANNER = Scanner()


def _types(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in SCANNER.scan(text)]


def test_when_a_prompt_mixes_entities_then_each_is_found_in_order() -> None:
    text = "Card 4111 1111 1111 1111, SSN 123-45-6789, mail jo@acme.io, call (415) 555-2671 from 10.1.2.3"
    assert _types(text) == [
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("US_SSN", "123-45-6789"),
        ("EMAIL_ADDRESS", "jo@acme.io"),
        ("PHONE_NUMBER", "(415) 555-2671"),
        ("IP_ADDRESS", "10.1.2.3"),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card \uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11",
         "\uff14\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11 \uff11\uff11\uff11\uff11"),
        ("card 4111\u200b1111\u200b1111\u200b1111", "4111\u200b1111\u200b1111\u200b1111"),
        ("card 4\u200d1\u200d1\u200d1 1111 1111 1111", "4\u200d1\u200d1\u200d1 1111 1111 1111"),
        ("ssn 123\u2010""45\u201006789".replace("06789", "6789"), "123\u201045\u20106789"),
        ("card 4111\u00a01111\u00a01111\u00a01111", "4111\u00a01111\u00a01111\u00a01111"),
        ("card 4111 1111-1111.1111", "4111 1111-1111.1111"),
        ("mail jo\uff20acme\uff0eio", "jo\uff20acme\uff0eio"),
        ("\u202ecard 4111111111111111", "4111111111111111"),
    ],
)  # fmt: skip
def test_when_values_are_disguised_then_they_are_found_and_offsets_point_into_the_original(
    text: str, expected: str
) -> None:
    (finding,) = SCANNER.scan(text)
    assert text[finding.start : finding.end] == expected


@pytest.mark.parametrize(
    "text",
    [
        "request 123e4567-e89b-12d3-a456-426614174000 done",
        "commit 3f2a9c81b0e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8",
        "at 2024-01-15T10:23:45.123456Z and 1700000000",
        "order #100234567 shipped",
        "pip install clearance==2.14.3; node v20.20.2",
        "tracking 1234567812345678",
        "ssn 000-12-3456 is invalid",
        "write to jane@example.com",
        "password=changeme-later and api_key=None",
        "price $1,234.56, pi 3.14159265",
        "mac 00:1a:2b:3c:4d:5e at 10:23:45",
    ],
)
def test_when_text_holds_only_hard_negatives_then_nothing_is_found(text: str) -> None:
    assert SCANNER.scan(text) == []


def test_when_text_is_empty_or_not_a_string_then_the_answer_is_clear() -> None:
    assert SCANNER.scan("") == []
    # The message is the scanner's own in pure Python, mypyc's argument check in the compiled build.
    with pytest.raises(TypeError, match=r"takes a str, not bytes|str object expected; got bytes"):
        SCANNER.scan(b"bytes")  # type: ignore[arg-type]


def test_when_classified_then_the_level_is_the_highest_found() -> None:
    assert SCANNER.classify("nothing here").level == "public"
    assert SCANNER.classify("mail jo@acme.io").level == "confidential"
    result = SCANNER.classify("mail jo@acme.io and card 4111111111111111")
    assert result.level == "restricted" and result.counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1}


def test_when_min_score_changes_then_weak_candidates_appear_or_disappear() -> None:
    assert SCANNER.scan("4155552671") == []
    assert [f.type for f in SCANNER.with_min_score(0.2).scan("4155552671")] == ["PHONE_NUMBER"]


def test_when_detector_names_repeat_or_min_score_is_out_of_range_then_the_scanner_is_refused() -> None:
    detectors = list(SCANNER.detectors)
    with pytest.raises(ValueError, match="unique"):
        Scanner([*detectors, detectors[0]])
    with pytest.raises(ValueError, match="min_score"):
        Scanner(min_score=1.5)


class _Plugin(Detector):
    """A plug-in written as the contract says: class attributes and ``find``."""

    name = "ticket_id"
    types = frozenset({"TICKET_ID"})
    triggers = ("TCK-",)

    def find(self, doc: Document) -> Iterator[Finding]:
        start = doc.text.find("TCK-")
        if start >= 0:
            yield Finding(start, start + 10, "TICKET_ID", 0.9, self.name)


class _SameName(_Plugin):
    pass


def test_when_a_plugin_sets_class_attributes_then_the_scanner_reads_them() -> None:
    # The scanner is compiled and the plug-in is not: its name and triggers must still be the class attributes.
    scanner = Scanner([_Plugin()])
    assert [d.name for d in scanner.detectors] == ["ticket_id"] and repr(scanner.detectors[0]) == "<_Plugin ticket_id>"
    assert scanner.scan("see TCK-123456") == [Finding(4, 14, "TICKET_ID", 0.9, "ticket_id")]
    with pytest.raises(ValueError, match="repeated: ticket_id"):
        Scanner([_Plugin(), _SameName()])


class _Counting(Scanner):
    def scan(self, text: str) -> list[Finding]:
        return [*super().scan(text), Finding(0, 0, "SEEN", 1.0, "counting")]


def test_when_an_application_subclasses_the_scanner_then_its_override_is_used() -> None:
    assert _Counting([_Plugin()]).classify("nothing").counts == {"SEEN": 1}


def test_when_built_from_config_then_custom_detectors_levels_context_and_exclusions_apply() -> None:
    config = parse_config(
        {
            "detection": {
                "disabled": ["ipv4"],
                "custom": [
                    {"name": "codenames", "type": "PROJECT", "keywords": ["bluebird"], "level": "internal"},
                    {"name": "employee", "type": "EMPLOYEE_ID", "regex": "EMP-[0-9]{6}", "score": 0.4,
                     "context": ["employee"], "context_boost": 0.2},
                ],
                "exclusions": [{"types": ["EMAIL_ADDRESS"], "patterns": [".*@ourco\\.com"]}],
                "levels": {"types": {"EMPLOYEE_ID": "internal"}},
            }
        }
    )  # fmt: skip
    scanner = Scanner.from_config(config)
    text = "bluebird: employee EMP-123456 ops@ourco.com jo@acme.io 10.1.2.3" + " " * 60 + "EMP-654321 alone"
    assert [(f.type, text[f.start : f.end]) for f in scanner.scan(text)] == [
        ("PROJECT", "bluebird"),
        ("EMPLOYEE_ID", "EMP-123456"),
        ("EMAIL_ADDRESS", "jo@acme.io"),
    ]
    assert scanner.classify("bluebird EMP-123456 employee").level == "internal"
    assert scanner.classify("bluebird jo@acme.io").level == "confidential"
    assert Scanner.from_config(config.detection).levels.level_of("PROJECT") == "internal"


def test_when_from_config_gets_something_else_then_it_says_what_it_expects() -> None:
    with pytest.raises(TypeError, match="DetectionConfig"):
        Scanner.from_config("detection.yaml")


def test_public_api_scans_and_classifies_with_the_default_scanner() -> None:
    assert clearance.scan("card 4111 1111 1111 1111") == default_scanner().scan("card 4111 1111 1111 1111")
    assert clearance.classify("mail jo@acme.io").level == "confidential"
    assert clearance.__all__ == sorted(clearance.__all__, key=lambda n: (not n[0].isupper(), n))
    assert default_scanner() is default_scanner()


_ALPHABET = st.sampled_from(list("0123456789 -.@:/()+#=abcdefxyzABEFKIT_\n\u200b\uff14\u00a0\u2011\u0664"))


_VALUES = st.sampled_from(["4111 1111 1111 1111", "jo@acme.io", "123-45-6789", "password=Xk9!mq2z", "10.0.0.1"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_ALPHABET, _VALUES), max_size=40))
def test_property_findings_stay_inside_the_text_are_disjoint_and_sorted(pieces: list[str]) -> None:
    text = "".join(pieces)
    findings = SCANNER.scan(text)
    for f in findings:
        assert 0 <= f.start < f.end <= len(text)
        assert 0.0 <= f.score <= 1.0
    assert all(a.end <= b.start for a, b in itertools.pairwise(findings))


def _calls(text: str) -> int:
    """How many calls scanning ``text`` makes, to Python functions and built-ins alike, as the profiler counts them:
    a measure of work that, unlike time, does not depend on the machine or its load."""
    calls = 0

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        calls += 1

    sys.setprofile(count)
    try:
        SCANNER.scan(text)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.skipif(
    not isinstance(Scanner.scan, FunctionType),
    reason="compiled code makes no profiler events; scripts/test counts in its run on the Python sources",
)
@pytest.mark.parametrize("name", sorted(PATHOLOGICAL))
def test_when_input_is_pathological_then_the_calls_of_a_scan_grow_linearly(name: str) -> None:
    # Twice the input may cost about twice the calls, not four times. A tenth of the sizes bench.pathological
    # times is enough: counts are exact, so a quadratic term shows at any size. What one call does is not seen:
    # work inside a regex engine or the Aho-Corasick automaton, a slice, a loop without calls (dropping the phone
    # detector's 15-digit bound passes here); `python -m bench.pathological` times the same inputs whole.
    half = _calls(pathological_text(name, 0.05))
    full = _calls(pathological_text(name, 0.1))
    assert full <= 2.5 * half
