"""The charts' geometry: bars scaled to the largest figure, columns stacked in the series' order to the tallest
column, a visible sliver for the smallest non-zero figure, nothing for zero, and a few time ticks."""

from __future__ import annotations

import pytest

from clearance.console.charts import BAR_GAP, BAR_HEIGHT, BARS_WIDTH, COLUMNS_WIDTH, LABEL_WIDTH, bars, columns


def test_when_bars_are_drawn_then_the_largest_fills_the_room_and_the_rest_scale() -> None:
    chart = bars([("a", 10), ("b", 5), ("c", 0), ("d", 1)], series={"a": "allow"})

    widths = [bar.width for bar in chart.bars]
    assert widths[0] == BARS_WIDTH - LABEL_WIDTH - 60
    assert widths[1] == pytest.approx(widths[0] / 2)
    assert widths[2] == 0
    assert widths[3] >= 1
    assert [bar.y for bar in chart.bars] == [i * (BAR_HEIGHT + BAR_GAP) for i in range(4)]
    assert [bar.series for bar in chart.bars] == ["allow", "default", "default", "default"]
    assert chart.height == 4 * (BAR_HEIGHT + BAR_GAP)


def test_when_there_are_no_bars_then_the_chart_is_empty_but_drawable() -> None:
    chart = bars([])
    assert chart.bars == ()
    assert chart.height > 0


def test_when_columns_are_stacked_then_each_segment_sits_on_the_one_below_in_series_order() -> None:
    chart = columns(
        [(0.0, {"block": 1, "allow": 3}), (60.0, {}), (120.0, {"allow": 2, "other": 2})], ["allow", "mask", "block"]
    )

    first, empty, third = chart.columns
    assert chart.peak == 4
    assert [s.series for s in first.segments] == ["allow", "block"]
    assert first.segments[0].y + first.segments[0].height == chart.plot_height
    assert first.segments[1].y + first.segments[1].height == pytest.approx(first.segments[0].y)
    assert first.segments[1].y == pytest.approx(0)  # the tallest column reaches the top
    assert empty.segments == () and empty.total == 0
    assert [s.series for s in third.segments] == ["allow", "other"]
    assert [c.x for c in chart.columns] == pytest.approx([0, COLUMNS_WIDTH / 3, 2 * COLUMNS_WIDTH / 3], abs=0.01)


def test_when_there_are_many_columns_then_only_a_few_carry_a_time() -> None:
    chart = columns([(float(i * 60), {"allow": i}) for i in range(100)], ["allow"])

    assert 1 < len(chart.ticks) <= 7
    assert chart.ticks[0] == (0.0, 0.0)
    assert all(c.width >= 1 for c in chart.columns)
