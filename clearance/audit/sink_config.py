"""The ``audit.sinks:`` settings: where records are streamed as they are written, besides the database.

Three kinds, each a list (any may be empty): JSON lines appended to a file or standard output, syslog (RFC 5424
over UDP or TCP) and batched HTTP POSTs. An HTTP sink's body is one of four shapes, chosen by ``format``: the
generic JSON body (``{"records": [...]}``) or the native ingestion body of Splunk's HTTP Event Collector,
Elasticsearch's bulk API or Loki's push API. They are built in, rather than left to a relay, because each is a few
lines and a relay is one more process to run and watch; docs/audit.md shows a configuration for each.

Header values are ``SecretRef``s with an optional prefix (``Splunk ``, ``Bearer ``): an ingestion token is a
credential, never written inline. ``docs/audit.md`` ("Sinks") explains the delivery guarantees.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from clearance.secretref import SecretRef

_Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
HttpFormat = Literal["generic", "splunk_hec", "elasticsearch_bulk", "loki"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Sink(_Strict):
    name: _Name | None = None
    """Shown in logs and metrics; defaults to the kind and position (``http-0``)."""
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    """Seconds one delivery attempt may take."""


class JsonlSinkConfig(_Sink):
    """One JSON object per line (the record's row), appended to ``path`` and flushed after each batch; ``-`` is
    standard output (the gateway's logs go to standard error, so the two never mix)."""

    path: Path
    fsync: bool = False
    """Also fsync the file after each batch (slower; survives a crash of the host, not only of the gateway)."""


class SyslogSinkConfig(_Sink):
    """RFC 5424 messages, one per record, the record's row as compact ASCII JSON in MSG. Over TCP each message is
    framed by octet counting (RFC 6587); over UDP a message larger than ``max_datagram`` bytes cannot be sent
    (counted as failed): use TCP for records that keep their text."""

    host: Annotated[str, Field(min_length=1)] = "127.0.0.1"
    port: Annotated[int, Field(gt=0, le=65535)] = 514
    transport: Literal["udp", "tcp"] = "udp"
    facility: Annotated[int, Field(ge=0, le=23)] = 13
    """13 is "log audit" (RFC 5424, table 1)."""
    severity: Annotated[int, Field(ge=0, le=7)] = 6
    """6 is "informational"."""
    app_name: Annotated[str, Field(min_length=1, max_length=48, pattern=r"^[!-~]+$")] = "clearance"
    hostname: Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[!-~]+$")] | None = None
    """The HOSTNAME field; this host's name by default."""
    max_datagram: Annotated[int, Field(ge=480, le=65507)] = 65507


class HeaderSecret(SecretRef):
    """A header's value, read from a secret, with an optional prefix written before it (``"Splunk "``)."""

    prefix: str = ""

    def header_value(self) -> str:
        return self.prefix + self.resolve()


class HttpSinkConfig(_Sink):
    """Records POSTed in batches of up to ``batch_size``, a partial batch sent after ``flush_interval`` seconds.
    A 2xx answer is success; a 408, 429 or 5xx answer or a network error is retried; any other status fails the
    batch (retrying would not help: the receiver refuses it)."""

    url: HttpUrl
    headers: dict[str, HeaderSecret] = {}
    format: HttpFormat = "generic"
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 100
    flush_interval: Annotated[float, Field(ge=0, le=300)] = 1.0
    index: Annotated[str, Field(min_length=1)] = "clearance-audit"
    """``elasticsearch_bulk``: the index (or data stream) each record is created in."""
    labels: dict[str, str] = {"service_name": "clearance", "job": "clearance-audit"}
    """``loki``: the stream's labels (keep them few and fixed: every record's fields are in the line)."""
    sourcetype: str = "clearance:audit"
    """``splunk_hec``: the events' sourcetype."""


SinkConfig = JsonlSinkConfig | SyslogSinkConfig | HttpSinkConfig


class SinkRetryConfig(_Strict):
    """A failed delivery is tried again after ``initial_backoff`` seconds, doubling up to ``max_backoff``; after
    ``max_attempts`` attempts in all (none: until it succeeds or the gateway stops) it is counted as failed."""

    max_attempts: Annotated[int, Field(ge=1)] | None = None
    initial_backoff: Annotated[float, Field(gt=0)] = 1.0
    max_backoff: Annotated[float, Field(gt=0)] = 60.0

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based)."""
        return float(min(self.initial_backoff * 2 ** min(attempt - 1, 32), self.max_backoff))


class SinksConfig(_Strict):
    jsonl: tuple[JsonlSinkConfig, ...] = ()
    syslog: tuple[SyslogSinkConfig, ...] = ()
    http: tuple[HttpSinkConfig, ...] = ()
    retry: SinkRetryConfig = SinkRetryConfig()
    backlog: Annotated[int, Field(ge=1)] = 10_000
    """Records waiting per sink; past that a new record is dropped for that sink (and counted)."""
    drain_timeout: Annotated[float, Field(ge=0)] = 10.0
    """Seconds the gateway, when it stops, waits for the sinks to deliver what they hold."""

    @model_validator(mode="after")
    def _unique_names(self) -> SinksConfig:
        names = [name for _, name in self.named()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"sink names must be unique: {', '.join(twice)} used more than once")
        return self

    def named(self) -> list[tuple[SinkConfig, str]]:
        """Every sink with its name (its own, or the kind and position)."""
        out: list[tuple[SinkConfig, str]] = []
        groups: tuple[tuple[str, Sequence[SinkConfig]], ...] = (
            ("jsonl", self.jsonl),
            ("syslog", self.syslog),
            ("http", self.http),
        )
        for kind, sinks in groups:
            out.extend((sink, sink.name or f"{kind}-{i}") for i, sink in enumerate(sinks))
        return out
