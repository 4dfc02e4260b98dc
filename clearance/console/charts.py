"""Charts drawn on the server as SVG geometry (no chart library, no script, no inline style): the templates place
these rectangles and labels, and the stylesheet colours them by class (``series-allow``, ``series-block``, …).

Two shapes: ``bars`` (one horizontal bar per named figure, scaled to the largest) and ``columns`` (one column per
time bucket, its figures stacked in a fixed order of series). Coordinates are in the SVG's own units (its
``viewBox``); the SVG scales to the page's width. Every chart has a table of the same figures beside it in the
template, for screen readers and for exact numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

BAR_HEIGHT: Final = 22
BAR_GAP: Final = 6
LABEL_WIDTH: Final = 180
BARS_WIDTH: Final = 600
COLUMNS_WIDTH: Final = 800
COLUMNS_HEIGHT: Final = 200
AXIS: Final = 20
"""Room under the columns for the time labels."""


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    y: float
    width: float
    """From ``LABEL_WIDTH``; at least one unit for a value above zero, so it shows."""
    series: str


@dataclass(frozen=True, slots=True)
class BarChart:
    bars: tuple[Bar, ...]
    width: int
    height: int
    label_width: int
    bar_height: int


def bars(figures: Sequence[tuple[str, int]], *, series: Mapping[str, str] | None = None) -> BarChart:
    """A bar per ``(label, value)``, in the order given; ``series`` names each label's colour class (default:
    ``series-default``)."""
    top = max((value for _, value in figures), default=0)
    room = BARS_WIDTH - LABEL_WIDTH - 60  # the value is written after the bar
    colours = series or {}
    made = []
    for i, (label, value) in enumerate(figures):
        width = 0.0 if top == 0 or value == 0 else max(1.0, room * value / top)
        made.append(Bar(label, value, i * (BAR_HEIGHT + BAR_GAP), round(width, 2), colours.get(label, "default")))
    height = max(1, len(figures)) * (BAR_HEIGHT + BAR_GAP)
    return BarChart(tuple(made), BARS_WIDTH, height, LABEL_WIDTH, BAR_HEIGHT)


@dataclass(frozen=True, slots=True)
class Segment:
    series: str
    value: int
    y: float
    height: float


@dataclass(frozen=True, slots=True)
class Column:
    start: float
    total: int
    x: float
    width: float
    segments: tuple[Segment, ...]
    """Bottom up, in the order of the chart's series; a series with no requests has none."""


@dataclass(frozen=True, slots=True)
class ColumnChart:
    columns: tuple[Column, ...]
    peak: int
    """The largest column's total: the top of the scale."""
    width: int
    height: int
    plot_height: int
    ticks: tuple[tuple[float, float], ...]
    """``(x, start)`` of the columns whose time is written under the axis (at most about six)."""


def columns(buckets: Sequence[tuple[float, Mapping[str, int]]], order: Sequence[str]) -> ColumnChart:
    """A column per ``(start, figures per series)``, each stacked bottom up in ``order`` (a series not in ``order``
    goes last, by name)."""
    count = max(1, len(buckets))
    step = COLUMNS_WIDTH / count
    width = max(1.0, step * 0.8)
    totals = [sum(figures.values()) for _, figures in buckets]
    peak = max(totals, default=0)
    plot = COLUMNS_HEIGHT - AXIS
    made = []
    for i, (start, figures) in enumerate(buckets):
        names = [s for s in order if figures.get(s)] + sorted(s for s in figures if s not in order and figures[s])
        segments = []
        base = float(plot)
        for name in names:
            height = plot * figures[name] / peak if peak else 0.0
            base -= height
            segments.append(Segment(name, figures[name], round(base, 2), round(height, 2)))
        made.append(Column(start, totals[i], round(i * step, 2), round(width, 2), tuple(segments)))
    every = max(1, -(-len(made) // 6))
    ticks = tuple((c.x, c.start) for c in made[::every])
    return ColumnChart(tuple(made), peak, COLUMNS_WIDTH, COLUMNS_HEIGHT, plot, ticks)
