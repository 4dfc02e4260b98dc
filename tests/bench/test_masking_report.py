"""The masking benchmark's printed tables: first-token figures, correctness checks and the bars' verdicts."""

from __future__ import annotations

from rich.console import Console

from bench.figures import DIRECT, GATEWAY, PLAIN, Measurement
from bench.masking_figures import MaskingFigures, added_first_token, bars, first_token
from bench.masking_report import print_masking_report


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
