from __future__ import annotations

from clearance.detect.builtin.phone import DEFAULT_REGIONS, PhoneNumberDetector
from clearance.detect.config import DetectionConfig
from clearance.detect.factory import build_parts
from clearance.detect.registry import builtin_registry


def test_when_nothing_is_configured_then_every_builtin_detector_and_default_rule_is_used() -> None:
    parts = build_parts(DetectionConfig())
    assert [d.name for d in parts.detectors] == list(builtin_registry().names())
    assert parts.exclusions == () and parts.min_score == 0.5


def test_when_custom_detectors_are_configured_then_their_context_and_levels_are_built() -> None:
    config = DetectionConfig.model_validate(
        {
            "disabled": ["us_bank"],
            "custom": [{"name": "codes", "type": "CODE", "keywords": ["atlas"], "context": ["project"],
                        "context_boost": 0.1, "level": "restricted"}],
            "context": [{"types": ["PHONE_NUMBER"], "words": ["hotline"], "boost": 0.2}],
            "levels": {"types": {"TICKET_ID": "internal"}},
            "min_score": 0.6,
        }
    )  # fmt: skip
    parts = build_parts(config)
    names = [d.name for d in parts.detectors]
    assert "us_bank" not in names and names[-1] == "codes"
    assert any(r.types == frozenset({"CODE"}) and r.words == ("project",) for r in parts.context_rules)
    assert any(r.types == frozenset({"PHONE_NUMBER"}) and r.words == ("hotline",) for r in parts.context_rules)
    assert parts.levels.level_of("CODE") == "restricted"
    assert parts.levels.level_of("TICKET_ID") == "internal"
    assert parts.levels.level_of("EMAIL_ADDRESS") == "confidential"
    assert parts.min_score == 0.6


def test_when_phone_regions_are_configured_then_the_phone_detector_is_built_with_them() -> None:
    default = [d for d in build_parts(DetectionConfig()).detectors if isinstance(d, PhoneNumberDetector)]
    assert [d.regions for d in default] == [DEFAULT_REGIONS]
    parts = build_parts(DetectionConfig.model_validate({"phone": {"regions": ["BR", "MX"]}}))
    phones = [d for d in parts.detectors if isinstance(d, PhoneNumberDetector)]
    assert [d.regions for d in phones] == [("BR", "MX")]
    assert [d.name for d in parts.detectors] == list(builtin_registry().names())  # in its place
