"""The configuration file: every error at once, with key paths; secrets never inline."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.config import load_config, parse_config
from clearance.exceptions import ConfigError
from clearance.observability.tracing import OTEL_MODULE

EXAMPLE = Path(__file__).parent.parent / "examples" / "clearance.yaml"


def test_example_config_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(EXAMPLE)
    assert config.upstreams


def test_every_error_is_reported_at_once_with_its_path() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                "server": {"port": "eighty", "max_body_bytes": -1},
                "upstreams": [{"name": "a", "base_url": "not a url", "kind": "vllm", "typo": 1}],
            }
        )
    paths = [path for path, _ in info.value.errors]
    assert paths == [
        "server.port",
        "server.max_body_bytes",
        "upstreams.0.base_url",
        "upstreams.0.kind",
        "upstreams.0.typo",
    ]
    messages = dict(info.value.errors)
    assert "unknown key" in messages["upstreams.0.typo"]


def test_inline_secrets_are_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            {"upstreams": [{"name": "a", "base_url": "http://127.0.0.1:1/v1", "credentials": {"api_key": "sk-1"}}]}
        )
    assert any("credentials" in path for path, _ in info.value.errors)


def test_a_model_served_twice_is_refused() -> None:
    with pytest.raises(ConfigError, match="1 error"):
        parse_config(
            {
                "upstreams": [
                    {"name": "a", "base_url": "http://127.0.0.1:1/v1", "models": ["m"]},
                    {"name": "b", "base_url": "http://127.0.0.1:2/v1", "models": [{"name": "n", "aliases": ["m"]}]},
                ]
            }
        )


@pytest.mark.parametrize(
    ("data", "url"),
    [
        ({}, "sqlite:///clearance-audit.db"),
        ({"database": {"url": "sqlite:///gateway.db"}}, "sqlite:///gateway.db"),
        ({"audit": {"url": "sqlite:///old.db"}}, "sqlite:///old.db"),  # files written for earlier releases
        ({"audit": {"url": "sqlite:///old.db"}, "database": {}}, "sqlite:///old.db"),
        ({"audit": {"url": "sqlite:///same.db"}, "database": {"url": "sqlite:///same.db"}}, "sqlite:///same.db"),
    ],
)
def test_when_the_database_is_configured_then_database_url_says_where(data: dict[str, object], url: str) -> None:
    assert parse_config(data).database.url == url


def test_when_audit_url_and_database_url_differ_then_the_file_is_refused_with_the_other_errors() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(
            {
                "server": {"port": -1},
                "audit": {"url": "sqlite:///old.db"},
                "database": {"url": "postgresql+psycopg://clearance@db/clearance"},
            }
        )

    messages = dict(info.value.errors)
    assert set(messages) == {"server.port", "database"}
    assert "audit.url" in messages["database"] and "database.url" in messages["database"]


def test_when_audit_url_is_not_a_string_then_the_error_names_audit_url() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"audit": {"url": 5}})

    assert [path for path, _ in info.value.errors] == ["audit.url"]


def test_when_audit_originals_is_not_set_then_originals_are_off() -> None:
    assert parse_config({}).audit.originals is None


def test_when_audit_originals_names_an_active_key_it_does_not_list_then_the_error_says_which() -> None:
    keys = [{"id": "k1", "key": {"env": "KEK_1"}}]
    with pytest.raises(ConfigError) as info:
        parse_config({"audit": {"originals": {"encryption": {"active": "k2", "keys": keys}, "modes": ["sometimes"]}}})

    messages = dict(info.value.errors)
    assert set(messages) == {"audit.originals.encryption", "audit.originals.modes.0"}
    assert "k2" in messages["audit.originals.encryption"]


def test_missing_credential_variable_names_the_variable_not_a_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_KEY", raising=False)
    config = parse_config(
        {"upstreams": [{"name": "a", "base_url": "http://127.0.0.1:1/v1", "credentials": {"env": "NOPE_KEY"}}]}
    )
    assert config.upstreams[0].credentials is not None
    with pytest.raises(ConfigError, match="NOPE_KEY is not set"):
        config.upstreams[0].credentials.resolve()


def test_yaml_syntax_error_gives_the_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: [1,\n")
    with pytest.raises(ConfigError, match="line 3"):
        load_config(bad)


def test_cli_config_check(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(app, ["config", "check", str(EXAMPLE)])
    assert ok.exit_code == 0, ok.output
    assert "valid" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("server:\n  port: -5\nupstreams:\n  - name: x\n")
    result = runner.invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert "server.port" in result.output
    assert "upstreams.0.base_url" in result.output


def test_when_a_declared_level_is_not_on_the_policys_scale_then_config_check_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("detection:\n  custom:\n    - {name: codes, type: CODE, keywords: [atlas], level: secret}\n")
    result = CliRunner().invoke(app, ["config", "check", str(bad)])
    assert result.exit_code == 1
    assert "detection.custom.0.level" in result.output


def test_when_telemetry_is_configured_without_the_otel_extra_then_config_check_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    traced = tmp_path / "traced.yaml"
    traced.write_text("telemetry:\n  otlp_endpoint: http://127.0.0.1:4318/v1/traces\n")
    assert CliRunner().invoke(app, ["config", "check", str(traced)]).exit_code == 0  # the extra is installed here
    monkeypatch.setitem(sys.modules, OTEL_MODULE, None)  # as if it were not
    result = CliRunner().invoke(app, ["config", "check", str(traced)])
    assert result.exit_code == 1
    said = " ".join(result.output.split())  # the table wraps its lines
    assert "telemetry is configured but OpenTelemetry is not installed" in said


def test_when_the_record_settings_are_absent_then_host_pid_names_the_instance_and_a_mebibyte_of_text_is_kept() -> None:
    config = parse_config({})
    assert (config.server.instance_id, config.audit.max_text_bytes) == (None, 1024 * 1024)
    named = parse_config({"server": {"instance_id": "gw-eu-1"}, "audit": {"max_text_bytes": 4096}})
    assert (named.server.instance_id, named.audit.max_text_bytes) == ("gw-eu-1", 4096)
    with pytest.raises(ConfigError) as info:
        parse_config({"audit": {"max_text_bytes": 10}})
    assert [path for path, _ in info.value.errors] == ["audit.max_text_bytes"]


def test_when_retention_is_set_without_a_signing_key_then_the_file_is_refused_at_audit() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"audit": {"retention": {"levels": {"public": "30d"}}}})
    assert [path for path, _ in info.value.errors] == ["audit"]
    assert "signing_key" in info.value.errors[0][1]
    signed = parse_config(
        {"audit": {"retention": {"levels": {"public": "30d"}}, "integrity": {"signing_key": {"env": "K"}}}}
    )
    assert signed.audit.retention.enabled


CONSOLE_ISSUER = "https://idp.example.com"


def console_settings(**oidc: object) -> dict[str, object]:
    return {
        "auth": {"issuers": [{"issuer": CONSOLE_ISSUER, "audience": "api"}]},
        "console": {
            "oidc": {
                "issuer": CONSOLE_ISSUER,
                "client_id": "clearance-console",
                "redirect_url": "https://gw.example.com/console/callback",
                **oidc,
            }
        },
    }


def test_when_the_console_signs_in_at_a_trusted_issuer_then_the_configuration_is_valid() -> None:
    config = parse_config(console_settings())
    assert config.console.oidc is not None
    assert config.console.oidc.scopes == ("openid", "email", "profile")
    assert config.console.session.idle_timeout == 1800


@pytest.mark.parametrize(
    ("oidc", "says"),
    [
        ({"issuer": "https://other.example.com"}, "is not one of auth.issuers"),
        ({"redirect_url": "http://gw.example.com/console/callback"}, "https://"),
        ({"redirect_url": "https://gw.example.com/elsewhere"}, "/console/callback"),
        ({"scopes": ["email"]}, "must include openid"),
    ],
)
def test_when_the_consoles_sign_in_is_wrong_then_the_error_says_what_to_fix(oidc: dict[str, object], says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(console_settings(**oidc))
    assert says in str(refused.value.errors)
