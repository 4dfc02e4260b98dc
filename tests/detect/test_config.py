from __future__ import annotations

import pytest

from clearance.config import parse_config
from clearance.detect.config import DetectionConfig
from clearance.detect.scanner import Scanner
from clearance.exceptions import ConfigError


def _errors(detection: dict[str, object]) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_config({"detection": detection})
    return dict(info.value.errors)


def test_when_the_section_is_absent_then_defaults_apply() -> None:
    config = parse_config({})
    assert config.detection == DetectionConfig()
    assert config.detection.levels.order is None  # the scale is the policy's
    assert Scanner.from_config(config).levels.order == ("public", "internal", "confidential", "restricted")


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
        (  # two places declare one type's level: neither may silently lose (the lower one would be a leak)
            {
                "custom": [{"name": "t", "type": "TICKET", "regex": "a", "level": "restricted"}],
                "levels": {"types": {"TICKET": "public"}},
            },
            "detection",
            "TICKET is declared at two levels",
        ),
        (
            {
                "custom": [
                    {"name": "t1", "type": "TICKET", "regex": "a", "level": "internal"},
                    {"name": "t2", "type": "TICKET", "regex": "b", "level": "public"},
                ]
            },
            "detection",
            "TICKET is declared at two levels",
        ),
        ({"custom": [{"name": "x", "type": "lower", "regex": "a"}]}, "detection.custom.0.type", "pattern"),
        ({"levels": {"order": ["a", "a"]}}, "detection.levels", "twice"),
        ({"exclusions": [{"types": ["CREDIT_CARD"]}]}, "detection.exclusions.0", "values"),
        ({"min_score": 2}, "detection.min_score", "less than or equal"),
        ({"unknown": 1}, "detection.unknown", "unknown key"),
        ({"phone": {"regions": ["GB", "UK"]}}, "detection.phone.regions", "unknown region(s) 'UK'"),
        ({"phone": {"regions": ["gb"]}}, "detection.phone.regions", "ISO 3166 alpha-2 codes in upper case"),
        ({"phone": {"regions": ["GB", "GB"]}}, "detection.phone.regions", "listed twice"),
        ({"phone": {"regions": []}}, "detection.phone.regions", "at least 1"),
    ],
)
def test_when_the_section_is_invalid_then_the_error_says_where_and_why(
    detection: dict[str, object], path: str, fragment: str
) -> None:
    errors = _errors(detection)
    assert path in errors, errors
    assert fragment in errors[path]


@pytest.mark.parametrize(
    ("detection", "path", "fragment"),
    [
        ({"custom": [{"name": "x", "type": "X", "regex": "a", "level": "top"}]}, "detection.custom.0.level",
         "'top' is not on the policy's scale: use one of public, internal, confidential, restricted"),
        ({"levels": {"types": {"EMAIL_ADDRESS": "secret"}}}, "detection.levels.types.EMAIL_ADDRESS",
         "not on the policy's scale"),
        ({"levels": {"types": {"EMAIL_ADDRESS": "internal"}}}, "detection.levels.types.EMAIL_ADDRESS",
         "the policy puts EMAIL_ADDRESS at 'confidential', and the policy decides"),
        ({"levels": {"default": "secret"}}, "detection.levels.default", "set 'unlisted_type_level' in the policy"),
        ({"levels": {"order": ["low", "high"]}}, "detection.levels.order", "the scale of levels is the policy's"),
    ],
)  # fmt: skip
def test_when_a_declared_level_disagrees_with_the_policy_then_building_says_where_and_what_to_do(
    detection: dict[str, object], path: str, fragment: str
) -> None:
    config = parse_config({"detection": detection})
    with pytest.raises(ConfigError) as info:
        Scanner.from_config(config)
    errors = dict(info.value.errors)
    assert list(errors) == [path]
    assert fragment in errors[path]


def test_when_declared_levels_repeat_the_policy_then_they_are_accepted() -> None:
    config = parse_config(
        {
            "detection": {
                "custom": [{"name": "x", "type": "X", "regex": "a", "level": "internal"}],
                "levels": {
                    "order": ["public", "internal", "confidential", "restricted"],
                    "default": "restricted",
                    "types": {"EMAIL_ADDRESS": "confidential", "TICKET_ID": "public"},
                },
            }
        }
    )
    levels = Scanner.from_config(config).levels
    assert (levels.level_of("X"), levels.level_of("TICKET_ID"), levels.level_of("OTHER")) == (
        "internal",
        "public",
        "restricted",
    )


def test_when_several_declared_levels_are_wrong_then_every_one_is_reported() -> None:
    config = parse_config(
        {
            "detection": {
                "custom": [{"name": "x", "type": "X", "regex": "a", "level": "top"}],
                "levels": {"default": "public", "types": {"Y": "nope"}},
            }
        }
    )
    with pytest.raises(ConfigError) as info:
        Scanner.from_config(config)
    assert [path for path, _ in info.value.errors] == [
        "detection.levels.default",
        "detection.custom.0.level",
        "detection.levels.types.Y",
    ]


def test_when_the_detection_configuration_changes_then_its_version_does_and_not_otherwise() -> None:
    default = DetectionConfig().version
    assert default == DetectionConfig().version and len(default) == 64
    assert DetectionConfig(min_score=0.6).version != default
    assert DetectionConfig(disabled=("credit_card",)).version != default


@pytest.mark.parametrize(
    ("regions", "text", "found"),
    [
        (None, "call 090-1234-5678", True),  # JP is a default region
        (["GB"], "call 03-1234-5678", False),
        (["JP"], "call 03-1234-5678", True),
        (["BR"], "ligue 011 91234-5678", True),  # a region that is not a default one
        (None, "ligue 011 91234-5678", False),
        (["BR"], "call 415-555-2671", True),  # North American numbers whatever the regions
    ],
)
def test_when_phone_regions_are_configured_then_national_numbers_of_those_regions_are_read(
    regions: list[str] | None, text: str, found: bool
) -> None:
    detection: dict[str, object] = {} if regions is None else {"phone": {"regions": regions}}
    scanner = Scanner.from_config(parse_config({"detection": detection}))
    assert ("PHONE_NUMBER" in [f.type for f in scanner.scan(text)]) is found
