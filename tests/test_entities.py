"""The catalogue of entity types: one entry per built-in type, and every built-in detector declares its types
against it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from clearance.detect.base import Detector, Document
from clearance.detect.config import NerConfig
from clearance.detect.registry import builtin_registry
from clearance.detect.scanner import Scanner
from clearance.entities import (
    CATALOGUE,
    DEFAULT_OPERATORS,
    DEFAULT_SCALE,
    ENTITY_TYPES,
    STRUCTURED_TYPES,
    default_levels,
)
from clearance.models import Finding
from clearance.policy import default_policy

_PLUGIN_TYPES = {"ner": set(NerConfig().labels) & CATALOGUE.keys()}
"""The catalogue types an optional plug-in finds too (the NER detector maps its labels to PERSON)."""


def _of(category: str) -> set[str]:
    return {e.name for e in ENTITY_TYPES if e.category == category}


def test_every_built_in_type_has_exactly_one_level_and_an_operator() -> None:
    placed = [t for _, types in default_levels() for t in types]
    assert len(placed) == len(set(placed)) == len(ENTITY_TYPES) == len(CATALOGUE)
    assert set(placed) == set(DEFAULT_OPERATORS)


def test_cards_and_secrets_are_restricted_and_masked_as_documented() -> None:
    restricted = dict(default_levels())["restricted"]
    assert _of("financial") | _of("secret") == set(restricted)
    assert {DEFAULT_OPERATORS[t] for t in _of("financial")} == {"partial"}
    assert {DEFAULT_OPERATORS[t] for t in _of("secret")} == {"redact"}
    assert [name for name, _ in default_levels()] == ["public", "internal", "confidential", "restricted"]


def test_personal_data_is_confidential_and_placeholdered() -> None:
    assert set(dict(default_levels())["confidential"]) == _of("personal") == {
        "EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "PERSON"
    }  # fmt: skip
    assert {DEFAULT_OPERATORS[t] for t in _of("personal")} == {"placeholder"}


def test_only_values_that_can_begin_with_a_plain_word_are_unstructured() -> None:
    assert set(CATALOGUE) - STRUCTURED_TYPES == {"EMAIL_ADDRESS", "IP_ADDRESS", "PERSON"}


def test_every_type_a_built_in_detector_declares_is_in_the_catalogue_and_every_entry_has_a_detector() -> None:
    declared = {t for d in builtin_registry().create_all() for t in d.types}
    assert declared <= CATALOGUE.keys()
    by_plugin = {e.name for e in ENTITY_TYPES if e.plugin}
    assert declared | by_plugin == CATALOGUE.keys()
    assert declared.isdisjoint(by_plugin)
    # names have a built-in detector (``person``); the NER plug-in finds more of the same type
    assert {t for types in _PLUGIN_TYPES.values() for t in types} == {"PERSON"} <= declared


SAMPLES = """
card 4111 1111 1111 1111, ssn 536-90-4399, iban GB82 WEST 1234 5698 7654 32, routing 011000015 (aba),
account number 12345678901, phone +44 20 7946 0958, mail jane.doe@acme.io, host 10.1.2.3 and 2001:db8::8a2e:370:7334,
token ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8, key AKIAZ7Q4X2M9R1T5W3YB,
jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U,
db postgres://app:s3cr3tPw@db.internal:5432/prod, password = "Zq8#mT2!vLp9", api_key: "k8Jd2LmQ9xPz4RtY7wVb"
-----BEGIN RSA PRIVATE KEY-----
MIIEpAIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgwMbRvI0MBZhpF
-----END RSA PRIVATE KEY-----
"""


def test_every_finding_of_a_built_in_detector_has_a_type_it_declares() -> None:
    detectors = {d.name: d for d in builtin_registry().create_all()}
    findings = Scanner().scan(SAMPLES)
    assert len({f.type for f in findings}) >= 12, findings  # the samples exercise most detectors
    for f in findings:
        assert f.type in detectors[f.detector].types, f


class _Rogue(Detector):
    name = "jwt"
    types = frozenset({"NOT_CATALOGUED"})

    def find(self, doc: Document) -> Iterator[Finding]:
        return iter(())


def test_when_a_built_in_detector_reports_a_type_not_catalogued_then_the_registry_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import clearance.detect.registry as registry

    monkeypatch.setattr(registry, "JwtDetector", _Rogue)
    monkeypatch.setattr(registry, "_BUILTIN", tuple((n, _Rogue if n == "jwt" else f) for n, f in registry._BUILTIN))
    with pytest.raises(ValueError, match="NOT_CATALOGUED, not in the catalogue"):
        registry.builtin_registry().create("jwt")


def test_the_default_policy_and_the_default_scheme_are_the_catalogue() -> None:
    scheme = default_policy().scheme
    assert scheme.order == DEFAULT_SCALE
    assert dict(scheme.type_levels) == {e.name: e.level for e in ENTITY_TYPES}
    assert scheme.unlisted == "restricted" == Scanner().levels.unlisted
    assert dict(Scanner().levels.type_levels) == dict(scheme.type_levels)
