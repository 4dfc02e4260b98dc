from __future__ import annotations

import copy
import pickle
from collections.abc import Callable
from types import MappingProxyType

import pytest

from clearance.entities import DEFAULT_TYPE_LEVELS, ENTITY_TYPES
from clearance.exceptions import ConfigError
from clearance.levels import (
    NO_DECLARED_LEVELS,
    Classification,
    DeclaredLevel,
    DeclaredLevels,
    DeclaredScale,
    LevelScheme,
    classification_scheme,
)
from clearance.models import Finding


@pytest.mark.parametrize(
    ("type_", "level"),
    [("CREDIT_CARD", "restricted"), ("US_SSN", "restricted"), ("IBAN_CODE", "restricted"),
     ("US_BANK_NUMBER", "restricted"), ("EMAIL_ADDRESS", "confidential"), ("PHONE_NUMBER", "confidential"),
     ("IP_ADDRESS", "confidential"), ("PERSON", "confidential"), ("SOMETHING_NEW", "restricted")],
)  # fmt: skip
def test_when_a_type_is_looked_up_then_the_default_level_applies(type_: str, level: str) -> None:
    assert LevelScheme().level_of(type_) == level


def test_every_secret_type_is_restricted_by_default() -> None:
    secrets = [e.name for e in ENTITY_TYPES if e.category == "secret"]
    assert secrets and all(DEFAULT_TYPE_LEVELS[t] == "restricted" for t in secrets)


def test_when_findings_have_several_levels_then_the_highest_wins() -> None:
    scheme = LevelScheme()
    assert scheme.highest([]) == "public"
    assert scheme.highest([Finding(0, 1, "EMAIL_ADDRESS")]) == "confidential"
    assert scheme.highest([Finding(0, 1, "EMAIL_ADDRESS"), Finding(2, 3, "JWT")]) == "restricted"


def test_when_a_scheme_is_customised_then_order_and_overrides_apply() -> None:
    scheme = LevelScheme(("open", "secret"), {"EMAIL_ADDRESS": "open"}, default="secret")
    assert scheme.highest([Finding(0, 1, "EMAIL_ADDRESS")]) == "open"
    assert scheme.highest([Finding(0, 1, "OTHER")]) == "secret"
    assert scheme.rank("secret") == 1 and scheme.lowest == "open"
    assert LevelScheme().with_types({"EMAIL_ADDRESS": "internal"}).level_of("EMAIL_ADDRESS") == "internal"


@pytest.mark.parametrize(
    ("order", "mapping", "default", "message"),
    [(("a", "a"), {}, "a", "distinct"), (("a",), {"X": "b"}, "a", "unknown level"), (("a",), {}, "b", "unknown")],
)
def test_when_a_scheme_is_inconsistent_then_it_is_refused(
    order: tuple[str, ...], mapping: dict[str, str], default: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        LevelScheme(order, mapping, default)


def test_when_findings_are_counted_then_the_most_frequent_type_comes_first() -> None:
    result = Classification("restricted", (Finding(0, 1, "B"), Finding(2, 3, "A"), Finding(4, 5, "B")))
    assert result.counts == {"B": 2, "A": 1}


@pytest.mark.parametrize("copy_", [copy.copy, copy.deepcopy, lambda c: pickle.loads(pickle.dumps(c))])
def test_a_classification_is_a_plain_value_that_copies_and_pickles(copy_: Callable[[Classification], object]) -> None:
    result = Classification("restricted", (Finding(0, 4, "JWT", 0.9, "jwt"),))
    assert copy_(result) == result
    assert copy.copy(LevelScheme()).rank("internal") == 1


def _declared(**types: str) -> DeclaredLevels:
    return DeclaredLevels(
        MappingProxyType({t: DeclaredLevel(v, f"detection.levels.types.{t}") for t, v in types.items()})
    )


def test_when_types_are_declared_then_the_scheme_adds_those_the_policy_does_not_list() -> None:
    policy = LevelScheme(("low", "mid", "high"), {"CREDIT_CARD": "high"}, "mid")
    assert classification_scheme(policy, NO_DECLARED_LEVELS) is policy
    scheme = classification_scheme(policy, _declared(TICKET_ID="low", CREDIT_CARD="high"))
    assert (scheme.order, scheme.unlisted) == (policy.order, "mid")
    assert dict(scheme.type_levels) == {"CREDIT_CARD": "high", "TICKET_ID": "low"}
    assert scheme.level_of("ANYTHING_ELSE") == "mid"


def test_when_declared_levels_contradict_the_policy_then_every_one_is_an_error_at_its_key() -> None:
    policy = LevelScheme(("low", "high"), {"CREDIT_CARD": "high"})
    declared = DeclaredLevels(
        _declared(CREDIT_CARD="low", TICKET_ID="secret").types,
        order=DeclaredScale(("low", "mid", "high"), "detection.levels.order"),
        default=DeclaredLevel("low", "detection.levels.default"),
    )
    with pytest.raises(ConfigError) as info:
        classification_scheme(policy, declared)
    errors = dict(info.value.errors)
    assert list(errors) == [
        "detection.levels.order",
        "detection.levels.default",
        "detection.levels.types.CREDIT_CARD",
        "detection.levels.types.TICKET_ID",
    ]
    assert "the policy puts CREDIT_CARD at 'high'" in errors["detection.levels.types.CREDIT_CARD"]
    assert "use one of low, high" in errors["detection.levels.types.TICKET_ID"]
    assert "unlisted_type_level" in errors["detection.levels.default"]


def test_when_a_built_in_type_the_policy_does_not_list_is_declared_lower_then_it_is_an_error() -> None:
    # A policy of bare levels lists no built-in type: cards are at its unlisted level, the highest. The detection
    # configuration may add levels for types the policy leaves out, but must not lower a built-in one below it.
    policy = LevelScheme(("low", "mid", "high"), {}, "mid")
    with pytest.raises(ConfigError) as info:
        classification_scheme(policy, _declared(CREDIT_CARD="low", TICKET_ID="low"))
    errors = dict(info.value.errors)
    assert list(errors) == ["detection.levels.types.CREDIT_CARD"]
    assert "below 'mid', the policy's level for it" in errors["detection.levels.types.CREDIT_CARD"]


def test_when_a_built_in_type_the_policy_does_not_list_is_declared_at_or_above_its_level_then_that_applies() -> None:
    policy = LevelScheme(("low", "mid", "high"), {}, "mid")
    scheme = classification_scheme(policy, _declared(CREDIT_CARD="high", EMAIL_ADDRESS="mid", TICKET_ID="low"))
    assert [scheme.level_of(t) for t in ("CREDIT_CARD", "EMAIL_ADDRESS", "TICKET_ID")] == ["high", "mid", "low"]
