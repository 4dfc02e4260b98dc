"""The gateway benchmarks' tables, printed with rich: the proxy benchmark's, and the masking benchmark's (its per-target
table is the proxy benchmark's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.figures import (
    ADDED_P50_BAR_MS,
    CPU_RATIO_BAR,
    DIRECT,
    AddedFirstToken,
    Bar,
    Comparison,
    FirstToken,
    MaskingFigures,
    Measurement,
)


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _mode(stream: bool) -> str:
    return "stream" if stream else "whole"


def verdict(met: bool | None) -> str:
    if met is None:
        return ""
    return "[green]met[/]" if met else "[red]missed[/]"


def _spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def measurements_table(measurements: Sequence[Measurement]) -> Table:
    table = Table(title="Per target and scenario (latency: request sent to last byte read)")
    for column in ("answer", "conc.", "target", "req/s", "p50 ms", "p99 ms", "+p50 ms vs direct"):
        table.add_column(column, justify="left" if column in ("answer", "target") else "right")
    table.add_column("proxy CPU ms/req", justify="right")
    table.add_column("upstream CPU ms/req", justify="right")
    table.add_column("errors", justify="right")
    direct_p50 = {(m.stream, m.concurrency): m.p50_ms for m in measurements if m.target == DIRECT}
    previous: tuple[bool, int] | None = None
    for m in measurements:
        key = (m.stream, m.concurrency)
        if previous is not None and key != previous:
            table.add_section()
        previous = key
        added = None if m.target == DIRECT or key not in direct_p50 else m.p50_ms - direct_p50[key]
        table.add_row(
            _mode(m.stream),
            str(m.concurrency),
            m.target,
            f"{m.requests_per_s:.0f}",
            _ms(m.p50_ms),
            _ms(m.p99_ms),
            _ms(added),
            _ms(m.proxy_cpu_ms),
            _ms(m.upstream_cpu_ms),
            str(m.errors) if not m.errors else f"[red]{m.errors}[/]",
        )
    return table


def comparisons_table(comparisons: Sequence[Comparison]) -> Table:
    table = Table(title="Gateway against the plain aiohttp pass-through (floor) and going direct (baseline)")
    table.add_column("answer")
    table.add_column("conc.", justify="right")
    table.add_column("gateway/plain CPU", justify="right")
    table.add_column("per round", justify="right")
    table.add_column(f"CPU bar (<= {CPU_RATIO_BAR}x)")
    table.add_column("gateway/direct p50", justify="right")
    table.add_column("gateway +p50 ms", justify="right")
    table.add_column("plain +p50 ms", justify="right")
    table.add_column(f"latency bar (< {ADDED_P50_BAR_MS} ms at c=1)")
    for c in comparisons:
        table.add_row(
            _mode(c.stream),
            str(c.concurrency),
            f"{c.gateway_vs_plain_cpu:.2f}x",
            _spread(c.gateway_vs_plain_cpu_rounds),
            verdict(c.cpu_bar_met),
            f"{c.gateway_vs_direct_p50:.2f}x",
            _ms(c.gateway_added_p50_ms),
            _ms(c.plain_added_p50_ms),
            verdict(c.latency_bar_met),
        )
    return table


def settings_table(settings: Mapping[str, Any], title: str = "Run") -> Table:
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("value")
    for key, value in settings.items():
        table.add_row(key, str(value))
    return table


def print_report(
    console: Console,
    settings: Mapping[str, Any],
    measurements: Sequence[Measurement],
    comparisons: Sequence[Comparison],
) -> None:
    console.print(settings_table(settings))
    console.print(measurements_table(measurements))
    console.print(comparisons_table(comparisons))


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
