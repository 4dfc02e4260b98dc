"""Reading policy files: every error at once, each with its key path and a hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clearance.exceptions import ConfigError
from clearance.policy import load_policy
from clearance.policy.load import parse_policy, read_policy_text


def errors_of(data: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        parse_policy(data)
    assert f"{len(info.value.errors)} error(s)" in info.value.message
    return dict(info.value.errors)


def test_when_many_things_are_wrong_then_every_error_is_reported_with_its_path() -> None:
    errors = errors_of(
        {
            "version": 1,
            "levels": ["public", {"name": "Internal"}, {"name": "restricted", "types": ["credit_card"]}],
            "colour": "red",
            "clearances": [
                {"groups": ["support"], "level": "confidential"},
                {"level": "public"},
                {"users": ["a@example.com"], "level": "public", "roles": ["superuser"]},
            ],
            "models": [{"name": "llama", "max_level": "secret"}],
            "rules": [
                {"id": "r1", "action": "mask", "when": {"min_level": "topsecret", "endpoints": ["chat"]}},
                {"id": "r2", "action": "require_approval"},
                {"id": "r3", "action": "allow", "mask": {"restore": True}},
                {"id": "r4", "action": "block", "approval": {"approvers": [], "grant_for": "soon"}},
            ],
            "defaults": {"unknown_identity": "maybe", "unknown_model_level": "nope"},
        }
    )
    assert set(errors) == {
        "colour",
        "levels.1.name",
        "levels.2.types.0",
        "clearances.0.level",
        "clearances.1",
        "clearances.2.roles.0",
        "models.0.max_level",
        "rules.0.when.min_level",
        "rules.0.when.endpoints.0",
        "rules.1",
        "rules.2",
        "rules.3.approval.approvers",
        "rules.3.approval.grant_for",
        "defaults.unknown_identity",
        "defaults.unknown_model_level",
    }
    assert "upper case" in errors["levels.2.types.0"]
    assert "unknown key" in errors["colour"]
    assert "lower case" in errors["levels.1.name"]
    assert "the levels of this policy are public, Internal, restricted" in errors["clearances.0.level"]
    assert "'approval'" in errors["rules.1"]
    assert "'mask' is only for action: mask" in errors["rules.2"]
    assert "at least one of groups" in errors["clearances.1"]
    assert "chat.completions" in errors["rules.0.when.endpoints.0"]


def test_when_a_level_is_misspelt_then_the_error_lists_the_levels_of_the_file() -> None:
    errors = errors_of(
        {
            "version": 1,
            "levels": [{"name": "open"}, {"name": "closed", "types": ["CREDIT_CARD"]}],
            "clearances": [{"groups": ["g"], "level": "internal"}],
        }
    )
    assert errors == {"clearances.0.level": "unknown level 'internal': the levels of this policy are open, closed"}


def test_when_the_version_is_missing_then_the_hint_says_what_to_write() -> None:
    assert "version: 1" in errors_of({"rules": []})["version"]
    assert "version" in errors_of({"version": 2})


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        ({"levels": [{"name": "a"}, {"name": "a"}]}, "level 'a' given more than once"),
        (
            {"rules": [{"id": "x", "action": "allow"}, {"id": "x", "action": "block"}]},
            "rule id 'x' given more than once",
        ),
        ({"models": [{"name": "m", "max_level": "public"}] * 2}, "model 'm' given more than once"),
        (
            {"levels": [{"name": "a", "types": ["T"]}, {"name": "b", "types": ["T"]}]},
            "type T is in both levels 'a' and 'b'",
        ),
        ({"rules": [{"id": "default", "action": "allow"}]}, "not 'default'"),
        ({"rules": [{"id": "x", "action": "allow", "message": "hi"}]}, "'message' is only for block"),
        (
            {"rules": [{"id": "x", "action": "allow", "when": {"min_level": "restricted", "max_level": "public"}}]},
            "min_level 'restricted' is above max_level 'public'",
        ),
        ({"rules": [{"id": "x", "action": "allow", "when": {"endpoints": ["api.*"]}}]}, "matches no endpoint"),
    ],
)
def test_when_the_file_contradicts_itself_then_it_is_refused(data: dict[str, Any], fragment: str) -> None:
    errors = errors_of({"version": 1, **data})
    assert any(fragment in message for message in errors.values()), errors


def test_when_levels_are_omitted_then_the_defaults_apply() -> None:
    file = parse_policy({"version": 1})
    assert [level.name for level in file.levels] == ["public", "internal", "confidential", "restricted"]
    assert "CREDIT_CARD" in file.levels[3].types
    assert "EMAIL_ADDRESS" in file.levels[2].types


def test_when_the_yaml_is_broken_then_the_position_is_given() -> None:
    with pytest.raises(ConfigError, match="invalid YAML at line 3, column 1"):
        read_policy_text("version: 1\nrules: [\n", source="p.yaml")


@pytest.mark.parametrize("data", [None, [], "text"])
def test_when_the_top_level_is_not_a_mapping_then_refused(data: Any) -> None:
    with pytest.raises(ConfigError, match="expected a mapping"):
        parse_policy(data)


def test_when_the_file_cannot_be_read_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy(tmp_path / "missing.yaml")


def test_when_a_file_is_loaded_then_its_digest_identifies_the_text(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("version: 1\n")
    first = load_policy(path)
    path.write_text("version: 1\n# a comment\n")
    second = load_policy(path)
    assert first.digest != second.digest
    assert len(first.digest) == 64


def test_when_a_key_is_given_twice_then_the_file_is_refused() -> None:
    text = "version: 1\nrules:\n  - {id: a, action: block}\nrules: []\n"
    with pytest.raises(ConfigError) as info:
        read_policy_text(text, source="p.yaml")
    assert "line 4" in info.value.message
    assert "'rules' is given twice" in info.value.errors[0][1]


def test_when_yaml_tries_to_build_objects_then_it_is_refused() -> None:
    with pytest.raises(ConfigError, match="invalid YAML"):
        read_policy_text("version: !!python/object/apply:os.system ['true']\n")


def test_when_the_file_is_not_text_then_the_error_says_so(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_policy(path)
