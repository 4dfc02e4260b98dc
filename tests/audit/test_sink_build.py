"""The sinks the configuration names become one dispatcher, one sink of the right kind per entry."""

from __future__ import annotations

from clearance.audit.sink_build import build_dispatcher, build_sinks
from clearance.audit.sink_config import SinksConfig
from clearance.audit.sink_http import HttpSink
from clearance.audit.sink_jsonl import JsonlSink
from clearance.audit.sink_syslog import SyslogSink


def test_when_the_configuration_names_sinks_then_each_is_built_with_its_name() -> None:
    config = SinksConfig.model_validate(
        {
            "jsonl": [{"path": "-"}],
            "syslog": [{"name": "siem"}],
            "http": [{"url": "http://127.0.0.1:3100/loki/api/v1/push", "format": "loki", "batch_size": 7}],
        }
    )
    sinks = build_sinks(config)
    assert [type(s) for s in sinks] == [JsonlSink, SyslogSink, HttpSink]
    assert [s.name for s in sinks] == ["jsonl-0", "siem", "http-0"]
    assert sinks[2].batch_size == 7
    assert build_dispatcher(config).backlog == {"jsonl-0": 0, "siem": 0, "http-0": 0}


def test_when_no_sink_is_configured_then_the_dispatcher_is_empty() -> None:
    assert not build_dispatcher(SinksConfig())
