"""The ``limits:`` section and the policy's ``limits`` blocks are validated at load, every error at its key."""

from __future__ import annotations

from typing import Any

import pytest

from clearance.config import parse_config
from clearance.exceptions import ConfigError
from clearance.limits.config import LimitsConfig, RateSpec
from clearance.policy.load import read_policy_text
from clearance.secretref import SecretRef

UPSTREAM = {"name": "up", "base_url": "http://127.0.0.1:9/v1", "models": [{"name": "llama", "aliases": ["ll"]}]}


def errors_of(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    return caught.value.errors


def test_defaults_set_no_limit_and_fail_closed() -> None:
    limits = parse_config({}).limits
    assert limits.on_redis_down == "closed"
    assert not limits.configured
    assert limits.url() is None


def test_a_full_section_is_read() -> None:
    config = parse_config(
        {
            "upstreams": [UPSTREAM],
            "limits": {
                "redis_url": "redis://127.0.0.1:6379/3",
                "key_prefix": "gw:",
                "on_redis_down": "open",
                "defaults": {"requests_per_minute": 60, "concurrent_streams": 2},
                "models": {"llama": {"tokens_per_minute": 1000}},
            },
        }
    )
    assert config.limits.configured
    assert config.limits.defaults == RateSpec(requests_per_minute=60, concurrent_streams=2)
    assert config.limits.models["llama"].tokens_per_minute == 1000
    assert config.limits.url() == "redis://127.0.0.1:6379/3"


@pytest.mark.parametrize("value", [0, -5])
def test_a_limit_below_one_is_refused_at_its_key(value: int) -> None:
    [(path, message)] = errors_of({"limits": {"defaults": {"requests_per_minute": value}}})
    assert path == "limits.defaults.requests_per_minute"
    assert "greater than or equal to 1" in message


def test_an_unknown_limit_name_is_refused() -> None:
    [(path, _)] = errors_of({"limits": {"defaults": {"requests_per_hour": 5}}})
    assert path == "limits.defaults.requests_per_hour"


def test_a_model_no_upstream_serves_is_refused_with_the_names_that_exist() -> None:
    [(_, message)] = errors_of({"upstreams": [UPSTREAM], "limits": {"models": {"lama": {"requests_per_minute": 1}}}})
    assert "'lama'" in message and "llama" in message


def test_an_alias_is_not_a_model_name_for_limits() -> None:
    [(_, message)] = errors_of({"upstreams": [UPSTREAM], "limits": {"models": {"ll": {"requests_per_minute": 1}}}})
    assert "not an alias" in message


def test_models_of_an_upstream_that_is_discovered_are_checked_at_start_instead() -> None:
    discovered = {"name": "up", "base_url": "http://127.0.0.1:9/v1"}
    config = parse_config({"upstreams": [discovered], "limits": {"models": {"anything": {"requests_per_minute": 1}}}})
    assert "anything" in config.limits.models


def test_the_url_may_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_LIMITS_REDIS", "redis://:pw@127.0.0.1:6379/0")
    limits = LimitsConfig(redis_url=SecretRef(env="TEST_LIMITS_REDIS"))
    assert limits.url() == "redis://:pw@127.0.0.1:6379/0"


def test_a_missing_secret_names_the_variable_not_a_value() -> None:
    limits = LimitsConfig(redis_url=SecretRef(env="TEST_LIMITS_REDIS_UNSET"))
    with pytest.raises(ConfigError, match="TEST_LIMITS_REDIS_UNSET"):
        limits.url()


def test_a_policy_clearance_carries_limits_and_refuses_bad_ones() -> None:
    policy = read_policy_text(
        "version: 1\nclearances:\n  - groups: [contractors]\n    level: public\n    limits: {requests_per_minute: 20}\n"
    )
    assert policy.clearances[0].limits == RateSpec(requests_per_minute=20)
    with pytest.raises(ConfigError) as caught:
        read_policy_text(
            "version: 1\nclearances:\n  - groups: [contractors]\n    level: public\n"
            "    limits: {tokens_per_minute: -1}\n"
        )
    assert any("limits.tokens_per_minute" in path for path, _ in caught.value.errors)
