"""The auth: section of the configuration: what it accepts and what it refuses, and why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from clearance.auth import AuthConfig, IssuerConfig
from clearance.config import parse_config
from clearance.exceptions import ConfigError

OK = {"issuer": "https://login.example.com", "audience": "api://clearance"}


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        ({"algorithms": ["HS256"]}, "algorithms"),
        ({"algorithms": ["none"]}, "algorithms"),
        ({"algorithms": []}, "at least one algorithm"),
        ({"issuer": "http://login.example.com"}, "https://"),
        ({"issuer": "http://10.1.2.3:8080"}, "https://"),
        ({"jwks_uri": "http://keys.example.com/jwks"}, "https://"),
        ({"audience": ""}, "audience"),
        ({"audience": []}, "audience"),
        ({"overage": "group_source"}, "group_source"),
        ({"groups_claim": []}, "groups claim"),
        ({"leeway": -1}, "leeway"),
        ({"surprise": True}, "surprise"),
    ],
)
def test_when_an_issuer_setting_is_unsafe_or_wrong_then_validation_says_so(
    overrides: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(ValidationError) as info:
        IssuerConfig.model_validate(OK | overrides)

    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "issuer", ["http://127.0.0.1:9000", "http://localhost:9000/realms/x", "http://[::1]:9000", "https://x.test/"]
)
def test_when_the_issuer_is_https_or_loopback_http_then_it_is_accepted(issuer: str) -> None:
    assert IssuerConfig.model_validate(OK | {"issuer": issuer}).issuer == issuer


def test_when_an_issuer_is_listed_twice_then_validation_refuses() -> None:
    with pytest.raises(ValidationError, match="listed twice"):
        AuthConfig.model_validate({"issuers": [OK, OK | {"audience": "other"}]})


@pytest.mark.parametrize(
    ("data", "configured"),
    [
        ({}, False),
        ({"api_keys": {"enabled": False}}, False),
        ({"api_keys": {"enabled": True}}, True),
        ({"issuers": [OK]}, True),
    ],
)
def test_when_neither_issuers_nor_keys_are_set_then_auth_is_not_configured(
    data: dict[str, Any], configured: bool
) -> None:
    assert AuthConfig.model_validate(data).configured is configured


def test_when_the_gateway_config_has_an_auth_section_then_it_is_parsed_with_defaults() -> None:
    config = parse_config(
        {
            "auth": {
                "issuers": [
                    OK
                    | {
                        "audience": ["api://clearance", "0f1e2d3c"],
                        "groups_claim": ["realm_access", "roles"],
                        "group_names": {"0000-1111": "finance"},
                    }
                ],
                "api_keys": {"enabled": True},
            }
        }
    )

    issuer = config.auth.issuers[0]
    assert issuer.audiences == ("api://clearance", "0f1e2d3c")
    assert issuer.groups_claim == ("realm_access", "roles")
    assert issuer.leeway == 60
    assert "RS256" in issuer.algorithms and "HS256" not in issuer.algorithms
    assert config.auth.api_keys.enabled


def test_when_the_auth_section_is_wrong_then_parse_config_reports_the_key_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"auth": {"issuers": [OK | {"algorithms": ["HS256"]}], "api_keys": {"enabeld": True}}})

    paths = [path for path, _ in info.value.errors]
    assert any(p.startswith("auth.issuers.0.algorithms") for p in paths)
    assert "auth.api_keys.enabeld" in paths


def test_when_no_auth_section_is_given_then_the_default_is_no_auth() -> None:
    assert parse_config({}).auth.configured is False
