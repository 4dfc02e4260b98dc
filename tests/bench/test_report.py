"""The printed tables say which bars were met and which were missed."""

from __future__ import annotations

from rich.console import Console

from bench.figures import DIRECT, GATEWAY, PLAIN, Measurement, compare
from bench.report import print_report


def _m(target: str, p50: float, cpu: float | None) -> Measurement:
    return Measurement(target, False, 1, 100, 0, 1.0, p50, p50 * 3, cpu, 0.1, (cpu,) if cpu else ())


def test_when_the_report_is_printed_then_it_shows_figures_ratios_and_verdicts() -> None:
    measurements = [_m(DIRECT, 0.30, None), _m(PLAIN, 0.60, 0.30), _m(GATEWAY, 1.50, 0.60)]
    console = Console(record=True, width=200)
    print_report(console, {"event loop": "uvloop"}, measurements, compare(measurements))
    text = console.export_text()
    assert "uvloop" in text
    assert "2.00x" in text  # gateway/plain CPU
    assert "5.00x" in text  # gateway/direct p50
    assert "1.20" in text  # gateway +p50 ms
    assert text.count("missed") == 2  # both bars
