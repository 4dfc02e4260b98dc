"""``audit.retention``: durations, the short and long form of a rule, and which rule a record's level falls under."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from clearance.audit.retention import RetentionConfig, RetentionRule, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_when_a_duration_has_a_unit_then_it_reads_as_that_many_of_it(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "0d", "-1d", "1w", "1.5d", "d", "30 days", "0001d"])
def test_when_a_duration_is_not_a_whole_number_and_a_unit_then_it_is_refused_with_the_format(text: str) -> None:
    with pytest.raises(ValueError, match="whole number and a unit"):
        parse_duration(text)


def test_when_rules_are_written_short_or_long_then_both_read_as_rules() -> None:
    config = RetentionConfig.model_validate(
        {"levels": {"public": "30d", "internal": {"after": "90d", "keep_metadata": True}}, "interval": 600}
    )

    assert config.levels == {
        "public": RetentionRule(after=timedelta(days=30)),
        "internal": RetentionRule(after=timedelta(days=90), keep_metadata=True),
    }
    assert config.enabled
    assert config.interval == 600


def test_when_no_rule_is_set_then_retention_is_off() -> None:
    assert not RetentionConfig().enabled


def test_when_a_rule_has_an_unknown_key_or_a_bad_duration_then_the_config_is_refused() -> None:
    with pytest.raises(ValidationError, match="keep_text"):
        RetentionConfig.model_validate({"levels": {"public": {"after": "1d", "keep_text": True}}})
    with pytest.raises(ValidationError, match="whole number and a unit"):
        RetentionConfig.model_validate({"levels": {"public": "soon"}})


def test_when_a_level_has_its_own_rule_then_it_applies_else_the_default_else_none() -> None:
    with_default = RetentionConfig.model_validate({"levels": {"public": "30d", "default": "180d"}})
    without = RetentionConfig.model_validate({"levels": {"public": "30d"}})

    assert with_default.rule_for("public") == ("public", RetentionRule(after=timedelta(days=30)))
    assert with_default.rule_for("restricted") == ("default", RetentionRule(after=timedelta(days=180)))
    assert with_default.rule_for(None) == ("default", RetentionRule(after=timedelta(days=180)))
    assert without.rule_for("restricted") is None
    assert without.rule_for(None) is None


def test_when_a_rule_names_a_level_off_the_policys_scale_then_it_is_listed() -> None:
    config = RetentionConfig.model_validate({"levels": {"public": "30d", "pubilc": "1d", "default": "180d"}})

    assert config.unknown_levels(["public", "internal"]) == ["pubilc"]
    assert config.unknown_levels(["public", "pubilc"]) == []
