"""The audit sinks the configuration names (``audit.sinks``), built into one dispatcher."""

from __future__ import annotations

from clearance.audit.sink_config import HttpSinkConfig, JsonlSinkConfig, SinksConfig
from clearance.audit.sink_http import HttpSink
from clearance.audit.sink_jsonl import JsonlSink
from clearance.audit.sink_syslog import SyslogSink
from clearance.audit.sinks import OnBacklog, OnOutcome, Sink, SinkDispatcher, ignore_backlog, ignore_outcome


def build_sinks(config: SinksConfig) -> list[Sink]:
    """One sink per entry of ``config``, named as ``SinksConfig.named`` names it."""
    sinks: list[Sink] = []
    for sink, name in config.named():
        if isinstance(sink, JsonlSinkConfig):
            sinks.append(JsonlSink(sink, name))
        elif isinstance(sink, HttpSinkConfig):
            sinks.append(HttpSink(sink, name))
        else:
            sinks.append(SyslogSink(sink, name))
    return sinks


def build_dispatcher(
    config: SinksConfig, *, on_outcome: OnOutcome = ignore_outcome, on_backlog: OnBacklog = ignore_backlog
) -> SinkDispatcher:
    """The dispatcher that streams written records to every sink of ``config``."""
    return SinkDispatcher(
        build_sinks(config),
        retry=config.retry,
        backlog=config.backlog,
        drain_timeout=config.drain_timeout,
        on_outcome=on_outcome,
        on_backlog=on_backlog,
    )
