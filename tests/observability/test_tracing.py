"""The tracer switch: nothing of OpenTelemetry without a ``telemetry`` section, a clear error at start when one is
configured without the ``otel`` extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from clearance.config import TelemetryConfig, parse_config
from clearance.exceptions import ConfigError
from clearance.observability.tracing import OTEL_MODULE, Tracer, build_tracer


def test_without_a_telemetry_section_the_gateway_loads_nothing_of_opentelemetry(tmp_path: Path) -> None:
    # a fresh interpreter: this test session has imported OpenTelemetry already
    script = textwrap.dedent(
        f"""
        import sys
        from clearance.app import PIPELINE, TRACER, create_app
        from clearance.config import parse_config
        from clearance.observability.tracing import Tracer

        app = create_app(parse_config({{"database": {{"url": "sqlite:///{tmp_path / "audit.db"}"}}}}))
        assert type(app[TRACER]) is Tracer and app[PIPELINE].tracer is app[TRACER]
        loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry") or m == "{OTEL_MODULE}")
        print(loaded)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_when_telemetry_is_configured_without_the_extra_then_start_up_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, OTEL_MODULE, None)  # as if the otel extra were not installed
    with pytest.raises(ConfigError) as raised:
        build_tracer(TelemetryConfig(otlp_endpoint="http://127.0.0.1:4318/v1/traces"))  # type: ignore[arg-type]
    assert "clearance[otel]" in str(raised.value)
    [(key, message)] = raised.value.errors
    assert key == "telemetry" and "otel extra" in message


def test_the_no_op_tracer_passes_every_exception_through() -> None:
    tracer = build_tracer(None)
    assert type(tracer) is Tracer
    with pytest.raises(ValueError, match="kept"), tracer.request({}, "chat.completions"), tracer.stage("parse"):
        raise ValueError("kept")
    headers: dict[str, str] = {}
    tracer.propagate(headers)
    assert headers == {}


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ({"sample_ratio": 1.5}, "telemetry.sample_ratio"),
        ({"otlp_endpoint": "not a url"}, "telemetry.otlp_endpoint"),
        ({"endpoint": "http://127.0.0.1:4318"}, "telemetry.endpoint"),
    ],
)
def test_a_wrong_telemetry_key_is_reported_with_its_path(section: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config({"telemetry": section})
    assert [path for path, _ in raised.value.errors] == [key]
