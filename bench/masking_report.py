"""The masking benchmark's tables, printed with rich (the per-target table is the proxy benchmark's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.masking_figures import AddedFirstToken, Bar, FirstToken, MaskingFigures
from bench.report import measurements_table, settings_table, verdict


def _ms(value: float) -> str:
    return f"{value:.2f}"


def first_token_table(rows: Sequence[FirstToken], added: Sequence[AddedFirstToken]) -> Table:
    table = Table(title="Time to first token against the paced upstream (ms from sending the request)")
    for column in ("target", "streams", "first text p50", "p99", "added p50", "added p99"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for column in ("first event p50", "p99", "added p50", "added p99"):
        table.add_column(column, justify="right")
    by_target = {a.target: a for a in added}
    for r in rows:
        a = by_target.get(r.target)
        table.add_row(
            r.target,
            str(r.samples),
            _ms(r.ttft_p50_ms),
            _ms(r.ttft_p99_ms),
            _ms(a.ttft_p50_ms) if a else "-",
            _ms(a.ttft_p99_ms) if a else "-",
            _ms(r.first_event_p50_ms),
            _ms(r.first_event_p99_ms),
            _ms(a.first_event_p50_ms) if a else "-",
            _ms(a.first_event_p99_ms) if a else "-",
        )
    return table


def bars_table(bars: Sequence[Bar]) -> Table:
    table = Table(title="The issue's bars (masking on, default policy)")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("bar", justify="right")
    table.add_column("")
    for bar in bars:
        table.add_row(bar.name, _ms(bar.figure), f"< {bar.limit:g}", verdict(bar.met))
    return table


def print_masking_report(console: Console, settings: Mapping[str, Any], figures: MaskingFigures) -> None:
    console.print(settings_table(settings))
    console.print(measurements_table(figures.measurements))
    console.print(measurements_table(figures.paced))
    console.print(first_token_table(figures.first_token, figures.added))
    console.print(settings_table(figures.checks, title="Correctness (what the masker let through)"))
    console.print(bars_table(figures.bars))
