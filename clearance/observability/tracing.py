"""Traces of the pipeline's stages: the no-op the pipeline calls by default, and the one switch that loads
OpenTelemetry (``build_tracer``).

The pipeline holds one ``Tracer`` and marks each stage with ``with tracer.stage("parse"):``. Without a
``telemetry`` section this is ``Tracer`` itself, whose methods do nothing and import nothing: the cost is a method
call and an empty context manager per stage. With one, ``build_tracer`` loads ``clearance.observability.otel``
(the ``otel`` extra), whose ``OtelTracer`` makes a span per stage, children of one span per request.

What a span may carry is fixed here, not by the stages: names of stages, and the facts of the request's audit
record that are already safe for a log line (endpoint, model as routed, decision, rule, counts by entity type,
status, token counts). Never text, a header value, an identity or a token.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, MutableMapping
from contextlib import AbstractContextManager, nullcontext
from types import ModuleType

from clearance.config import TelemetryConfig
from clearance.exceptions import ConfigError
from clearance.models import AuditRecord

STAGES = (
    "authenticate",
    "read_body",
    "parse",
    "validate",
    "route",
    "limits",
    "inspect",
    "approval",
    "upstream",
    "relay",
    "record",
)
"""Every stage the pipeline marks, in the order a request meets them (``limits`` only for a caller with limits,
``approval`` only for a held request)."""

OTEL_MODULE = "clearance.observability.otel"
INSTALL_HINT = "install the otel extra (pip install 'clearance[otel]'), or remove the telemetry section"


class Tracer:
    """The tracer the pipeline calls; this base does nothing (no tracing configured).

    ``request`` wraps one request, ``stage`` one stage of it (a child of the request), ``propagate`` adds the
    trace context (W3C ``traceparent``) to the headers of the request sent upstream, ``recorded`` annotates the
    request with its audit record's safe facts. ``flush`` and ``close`` block: call them from a thread."""

    def __init__(self) -> None:
        self._nothing: AbstractContextManager[None] = nullcontext()

    def request(self, headers: Mapping[str, str], endpoint: str) -> AbstractContextManager[None]:
        """The span of one request, continuing the caller's trace when ``headers`` carry a ``traceparent``."""
        return self._nothing

    def stage(self, name: str) -> AbstractContextManager[None]:
        """The span of one stage (one of ``STAGES``) of the current request."""
        return self._nothing

    def propagate(self, headers: MutableMapping[str, str]) -> None:
        """Add the current span's trace context to ``headers`` (the upstream request's)."""

    def recorded(self, record: AuditRecord) -> None:
        """The request's audit record is built: its safe facts go on the request's span."""

    def flush(self) -> None:
        """Send every ended span now (tests; a drain)."""

    def close(self) -> None:
        """Send what is left and stop."""


def tracer_module(config: TelemetryConfig) -> ModuleType:
    """OpenTelemetry's side of the tracer (``OTEL_MODULE``), for ``config``. Raises ``ConfigError`` when the ``otel``
    extra is not installed: at start, and from ``clearance config check``."""
    try:
        return importlib.import_module(OTEL_MODULE)
    except ImportError as exc:
        raise ConfigError(
            f"telemetry is configured but OpenTelemetry is not installed: {INSTALL_HINT}",
            [("telemetry", f"needs the otel extra ({exc.name or 'opentelemetry'} is missing): {INSTALL_HINT}")],
        ) from None


def build_tracer(config: TelemetryConfig | None) -> Tracer:
    """The tracer for ``config``: the no-op without one (OpenTelemetry is not imported), else OpenTelemetry's.

    Raises ``ConfigError`` at start when tracing is configured but the ``otel`` extra is not installed."""
    if config is None:
        return Tracer()
    tracer: Tracer = tracer_module(config).OtelTracer(config)
    return tracer
