"""The printed tables say which bars were met and which were missed; the masking benchmark's also show first-token
figures and the correctness checks."""

from __future__ import annotations

from rich.console import Console

from bench.figures import (
    DIRECT,
    GATEWAY,
    PLAIN,
    MaskingFigures,
    Measurement,
    added_first_token,
    bars,
    compare,
    first_token,
)
from bench.report import print_masking_report, print_report


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


def test_when_the_report_is_printed_then_it_shows_first_tokens_checks_and_verdicts() -> None:
    measurements = [
        Measurement(DIRECT, True, 1, 100, 0, 1.0, 1.0, 2.0, None, 0.1),
        Measurement(PLAIN, True, 1, 100, 0, 1.0, 1.5, 2.5, 0.8, 0.1),
        Measurement(GATEWAY, True, 1, 100, 0, 1.0, 4.0, 7.0, 2.5, 0.1),
    ]
    rows = [
        first_token(DIRECT, [101.0], [101.0]),
        first_token(PLAIN, [102.0], [102.0]),
        first_token(GATEWAY, [113.25], [103.0]),
    ]
    added = added_first_token(rows)
    figures = MaskingFigures(
        measurements, [], rows, added, bars(measurements, added), {"answers through the gateway": "9 checked"}
    )
    console = Console(record=True, width=220)
    print_masking_report(console, {"event loop": "uvloop"}, figures)
    text = console.export_text()
    assert "uvloop" in text
    assert "113.25" in text and "12.25" in text  # gateway first text, and what it adds to direct
    assert "9 checked" in text
    assert text.count("missed") == 1  # the first token: +12.25 ms
    assert text.count(" met ") == 1  # CPU per stream: 2.5 ms
