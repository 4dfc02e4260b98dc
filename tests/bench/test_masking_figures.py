"""The masking benchmark's arithmetic: time to first token per target, what each proxy adds, and the bars."""

from __future__ import annotations

import math

import pytest

from bench.figures import DIRECT, GATEWAY, PLAIN, Measurement
from bench.masking_figures import (
    ADDED_TTFT_P50_BAR_MS,
    CPU_PER_REQUEST_BAR_MS,
    CPU_PER_STREAM_BAR_MS,
    Bar,
    added_first_token,
    bars,
    first_token,
)


def test_when_first_tokens_are_timed_then_percentiles_come_from_every_stream() -> None:
    row = first_token(GATEWAY, [110.0, 112.0, 111.0, 150.0], [101.0, 102.0, 103.0, 104.0])
    assert row.samples == 4
    assert (row.ttft_p50_ms, row.ttft_p99_ms) == (111.0, 150.0)
    assert (row.first_event_p50_ms, row.first_event_p99_ms) == (102.0, 104.0)


def test_when_proxies_are_compared_then_each_percentile_is_taken_from_direct() -> None:
    rows = [
        first_token(DIRECT, [100.0, 101.0], [100.0, 101.0]),
        first_token(PLAIN, [101.0, 103.0], [101.0, 103.0]),
        first_token(GATEWAY, [111.0, 115.0], [102.0, 104.0]),
    ]
    added = {a.target: a for a in added_first_token(rows)}
    assert set(added) == {PLAIN, GATEWAY}
    assert added[GATEWAY].ttft_p50_ms == pytest.approx(11.0)
    assert added[GATEWAY].ttft_p99_ms == pytest.approx(14.0)
    assert added[GATEWAY].first_event_p50_ms == pytest.approx(2.0)
    assert added[PLAIN].ttft_p50_ms == pytest.approx(1.0)
    assert added_first_token(rows[1:]) == []  # nothing to compare with


def _m(target: str, stream: bool, concurrency: int, cpu: float | None) -> Measurement:
    return Measurement(target, stream, concurrency, 100, 0, 1.0, 1.0, 2.0, cpu, 0.1)


def test_when_bars_are_judged_then_only_the_gateway_counts_each_against_its_own_limit() -> None:
    measurements = [
        _m(PLAIN, False, 1, 0.3),
        _m(GATEWAY, False, 1, 1.2),
        _m(GATEWAY, False, 16, 1.6),
        _m(GATEWAY, True, 1, 2.9),
        _m(GATEWAY, True, 16, math.nan),
    ]
    rows = [first_token(DIRECT, [100.0], [100.0]), first_token(GATEWAY, [112.0], [101.0])]
    judged = bars(measurements, added_first_token(rows))
    assert [(b.limit, b.met) for b in judged] == [
        (CPU_PER_REQUEST_BAR_MS, True),
        (CPU_PER_REQUEST_BAR_MS, False),
        (CPU_PER_STREAM_BAR_MS, True),
        (CPU_PER_STREAM_BAR_MS, None),  # nothing measured
        (ADDED_TTFT_P50_BAR_MS, False),
    ]
    assert judged[-1].figure == pytest.approx(12.0)


@pytest.mark.parametrize(("figure", "met"), [(4.99, True), (5.0, False), (math.nan, None)])
def test_when_a_figure_reaches_its_limit_then_the_bar_is_missed(figure: float, met: bool | None) -> None:
    assert Bar("b", figure, 5.0).met is met
