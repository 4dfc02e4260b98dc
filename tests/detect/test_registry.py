from __future__ import annotations

from collections.abc import Iterator

import pytest

from clearance.detect.base import Detector, Document
from clearance.detect.registry import DetectorRegistry, builtin_registry
from clearance.models import Finding


class _Named(Detector):
    name = "named"

    def find(self, doc: Document) -> Iterator[Finding]:
        return iter(())


def test_builtin_registry_names_every_detector_once_and_builds_them() -> None:
    registry = builtin_registry()
    names = registry.names()
    assert len(names) == len(set(names))
    assert {"credit_card", "us_ssn", "iban", "aba_routing", "email", "phone", "ipv4", "ipv6", "us_bank",
            "assignment", "private_key", "jwt", "connection_string", "aws_access_key"} <= set(names)  # fmt: skip
    assert [d.name for d in registry.create_all()] == list(names)
    assert "phone" not in [d.name for d in registry.create_all(exclude=["phone"])]


def test_when_a_name_is_taken_or_unknown_then_the_error_says_so() -> None:
    registry = DetectorRegistry()
    registry.register("named", _Named)
    with pytest.raises(ValueError, match="already registered"):
        registry.register("named", _Named)
    with pytest.raises(KeyError, match="known detectors: named"):
        registry.create("nope")


def test_when_a_factory_builds_a_detector_of_another_name_then_it_is_refused() -> None:
    registry = DetectorRegistry()
    registry.register("other", _Named)
    with pytest.raises(ValueError, match="built a detector named 'named'"):
        registry.create("other")
