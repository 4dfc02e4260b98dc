"""The ``audit.sinks`` settings: defaults, names, refusals, secrets never inline, the retry schedule."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from clearance.audit.sink_config import HeaderSecret, SinkRetryConfig, SinksConfig


def test_when_sinks_have_no_names_then_each_is_named_by_kind_and_position() -> None:
    config = SinksConfig.model_validate(
        {
            "jsonl": [{"path": "/tmp/a.jsonl"}, {"path": "-", "name": "stdout"}],
            "syslog": [{"transport": "tcp", "port": 6514}],
            "http": [{"url": "http://127.0.0.1:8088/services/collector/event", "format": "splunk_hec"}],
        }
    )
    assert [name for _, name in config.named()] == ["jsonl-0", "stdout", "syslog-0", "http-0"]
    assert config.jsonl[1].path == Path("-")
    assert config.http[0].batch_size == 100 and config.syslog[0].facility == 13


def test_when_two_sinks_share_a_name_then_the_configuration_is_refused() -> None:
    with pytest.raises(ValidationError, match="sink names must be unique: x"):
        SinksConfig.model_validate({"jsonl": [{"path": "-", "name": "x"}], "http": [{"url": "http://a", "name": "x"}]})


@pytest.mark.parametrize(
    "sinks",
    [
        {"http": [{"url": "http://a", "format": "fluentd"}]},
        {"http": [{"url": "http://a", "headers": {"Authorization": "Splunk inline-token"}}]},
        {"syslog": [{"transport": "tls"}]},
        {"syslog": [{"app_name": "has space"}]},
        {"jsonl": [{"path": "-", "colour": "red"}]},
    ],
)
def test_when_a_sink_is_misconfigured_then_it_is_refused(sinks: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SinksConfig.model_validate(sinks)


def test_when_a_header_names_a_secret_then_its_value_is_the_prefix_and_the_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SINK_TOKEN", "abc123")
    assert HeaderSecret(env="TEST_SINK_TOKEN", prefix="Bearer ").header_value() == "Bearer abc123"


def test_when_attempts_fail_then_the_backoff_doubles_up_to_the_bound() -> None:
    retry = SinkRetryConfig(initial_backoff=1, max_backoff=5)
    assert [retry.backoff(n) for n in range(1, 6)] == [1, 2, 4, 5, 5]
    assert retry.backoff(10_000) == 5  # no overflow however long a sink stays down


def test_when_the_documented_examples_are_read_then_each_is_a_valid_configuration() -> None:
    page = (Path(__file__).parents[2] / "docs" / "audit.md").read_text()
    section = page[page.index("## Sinks") : page.index("## Limits")]
    blocks = [textwrap.dedent(b) for b in re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)]
    assert len(blocks) == 4  # the settings and the three recipes
    first = yaml.safe_load(blocks[0])["audit"]["sinks"]
    formats = [SinksConfig.model_validate(yaml.safe_load(b)).http[0].format for b in blocks[1:]]
    assert len(SinksConfig.model_validate(first).named()) == 3
    assert formats == ["splunk_hec", "elasticsearch_bulk", "loki"]
