"""The observability cost benchmark runs the pipeline's calls and reports a figure for each (no timing is asserted:
the figures are for people to read)."""

from __future__ import annotations

import pytest

from bench.tracing import main, measure


def test_each_figure_is_measured() -> None:
    figures = measure(50)
    assert figures.noop_tracer_us > 0 and figures.metrics_us > 0
    assert figures.otel_tracer_us is not None and figures.otel_tracer_us > 0  # the dev install has the otel extra


def test_the_command_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--requests", "20"]) == 0
    out = capsys.readouterr().out
    assert "no-op tracer" in out and "OpenTelemetry" in out and "metrics" in out
