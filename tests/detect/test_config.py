from __future__ import annotations

import pytest

from clearance.config import parse_config
from clearance.detect.config import DetectionConfig
from clearance.exceptions import ConfigError


def _errors(detection: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_config({"detection": detection})
    return dict(info.value.errors)


def test_when_the_section_is_absent_then_defaults_apply() -> None:
    config = parse_config({})
    assert config.detection == DetectionConfig()
    assert config.detection.levels.order == ("public", "internal", "confidential", "restricted")


def test_when_a_regex_is_not_re2_then_the_error_names_its_key_path() -> None:
    errors = _errors({"custom": [{"name": "ok", "type": "OK", "regex": "EMP-[0-9]{6}"},
                                 {"name": "bad", "type": "BAD", "regex": "(a)\\1"}]})  # fmt: skip
    assert list(errors) == ["detection.custom.1.regex"]
    assert "RE2 cannot compile" in errors["detection.custom.1.regex"]


def test_when_an_exclusion_pattern_is_not_re2_then_the_error_names_its_key_path() -> None:
    errors = _errors({"exclusions": [{"patterns": ["(?<=x)y"]}]})
    assert list(errors) == ["detection.exclusions.0.patterns"]


@pytest.mark.parametrize(
    ("detection", "path", "fragment"),
    [
        ({"disabled": ["nope"]}, "detection.disabled", "unknown detector"),
        ({"custom": [{"name": "x", "type": "X"}]}, "detection.custom.0", "exactly one of"),
        (
            {"custom": [{"name": "x", "type": "X", "regex": "a", "keywords": ["a"]}]},
            "detection.custom.0",
            "exactly one",
        ),
        ({"custom": [{"name": "email", "type": "X", "regex": "a"}]}, "detection", "already taken"),
        ({"custom": [{"name": "x", "type": "lower", "regex": "a"}]}, "detection.custom.0.type", "pattern"),
        ({"custom": [{"name": "x", "type": "X", "regex": "a", "level": "top"}]}, "detection", "not one of"),
        ({"levels": {"types": {"EMAIL_ADDRESS": "secret"}}}, "detection.levels", "not one of"),
        ({"levels": {"default": "secret"}}, "detection.levels", "not one of"),
        ({"exclusions": [{"types": ["CREDIT_CARD"]}]}, "detection.exclusions.0", "values"),
        ({"min_score": 2}, "detection.min_score", "less than or equal"),
        ({"unknown": 1}, "detection.unknown", "unknown key"),
    ],
)
def test_when_the_section_is_invalid_then_the_error_says_where_and_why(
    detection: dict[str, object], path: str, fragment: str
) -> None:
    errors = _errors(detection)
    assert path in errors, errors
    assert fragment in errors[path]
