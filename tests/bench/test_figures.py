"""The benchmarks' arithmetic: percentiles, pooling rounds, the comparisons the bars are judged on, time to first
token per target, what each proxy adds, and the bars."""

from __future__ import annotations

import math

import pytest

from bench.figures import (
    ADDED_TTFT_P50_BAR_MS,
    CPU_PER_REQUEST_BAR_MS,
    CPU_PER_STREAM_BAR_MS,
    DIRECT,
    GATEWAY,
    PLAIN,
    Bar,
    Measurement,
    Round,
    added_first_token,
    bars,
    compare,
    first_token,
    measurement,
    percentile,
)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 99, 4.0),
        ([4.0, 1.0, 3.0, 2.0], 75, 3.0),
        (list(map(float, range(1, 101))), 99, 99.0),
        (list(map(float, range(1, 101))), 100, 100.0),
    ],
)
def test_when_values_are_given_then_percentile_is_the_nearest_rank(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == expected


def test_when_there_are_no_values_then_percentile_is_nan() -> None:
    assert math.isnan(percentile([], 50))


def test_when_rounds_are_pooled_then_cpu_is_total_cpu_over_every_request_sent() -> None:
    rounds = [
        Round(latencies_ms=[1.0, 2.0, 3.0], errors=1, elapsed_s=1.0, proxy_cpu_s=0.004, upstream_cpu_s=0.002),
        Round(latencies_ms=[4.0], errors=0, elapsed_s=0.5, proxy_cpu_s=0.001, upstream_cpu_s=0.0005),
    ]
    m = measurement(PLAIN, False, 16, rounds)
    assert m.completed == 4
    assert m.errors == 1
    assert m.proxy_cpu_ms == pytest.approx(5.0 / 5)  # 5 ms of CPU over 5 requests sent
    assert m.upstream_cpu_ms == pytest.approx(2.5 / 5)
    assert m.proxy_cpu_ms_rounds == pytest.approx((1.0, 1.0))
    assert m.requests_per_s == pytest.approx(4 / 1.5)
    assert m.p50_ms == 2.0


def test_when_going_direct_then_there_is_no_proxy_cpu() -> None:
    m = measurement(DIRECT, True, 1, [Round([1.0], 0, 1.0, None, 0.001)])
    assert m.proxy_cpu_ms is None
    assert m.proxy_cpu_ms_rounds == ()


def _m(target: str, concurrency: int, p50: float, cpu: float | None, rounds: tuple[float, ...] = ()) -> Measurement:
    return Measurement(target, False, concurrency, 100, 0, 1.0, p50, p50 * 2, cpu, 0.1, rounds)


@pytest.mark.parametrize(
    ("gateway_cpu", "gateway_p50", "cpu_met", "latency_met"),
    [
        (0.45, 1.2, True, True),  # 1.5x the floor, +0.9 ms
        (0.46, 1.2, False, True),  # just over 1.5x
        (0.30, 1.3, True, False),  # +1.0 ms is not under 1 ms
    ],
)
def test_when_the_gateway_is_compared_then_the_bars_are_judged_on_cpu_ratio_and_added_p50(
    gateway_cpu: float, gateway_p50: float, cpu_met: bool, latency_met: bool
) -> None:
    (c,) = compare([_m(DIRECT, 1, 0.3, None), _m(PLAIN, 1, 0.6, 0.3), _m(GATEWAY, 1, gateway_p50, gateway_cpu)])
    assert c.gateway_vs_plain_cpu == pytest.approx(gateway_cpu / 0.3)
    assert c.gateway_added_p50_ms == pytest.approx(gateway_p50 - 0.3)
    assert c.plain_added_p50_ms == pytest.approx(0.3)
    assert c.gateway_vs_direct_p50 == pytest.approx(gateway_p50 / 0.3)
    assert c.cpu_bar_met is cpu_met
    assert c.latency_bar_met is latency_met


def test_when_concurrency_is_above_one_then_the_latency_bar_does_not_apply() -> None:
    (c,) = compare([_m(DIRECT, 16, 5.0, None), _m(PLAIN, 16, 9.0, 0.3), _m(GATEWAY, 16, 20.0, 0.4)])
    assert c.latency_bar_met is None


def test_when_rounds_are_known_then_the_ratio_is_given_round_by_round() -> None:
    (c,) = compare([_m(DIRECT, 1, 0.3, None), _m(PLAIN, 1, 0.6, 0.3, (0.2, 0.4)), _m(GATEWAY, 1, 0.8, 0.4, (0.3, 0.4))])
    assert c.gateway_vs_plain_cpu_rounds == pytest.approx((1.5, 1.0))


def test_when_a_target_is_missing_then_its_scenario_is_not_compared() -> None:
    assert compare([_m(DIRECT, 1, 0.3, None), _m(GATEWAY, 1, 0.8, 0.4)]) == []


def test_when_the_floor_s_cpu_could_not_be_read_then_the_cpu_bar_is_not_judged() -> None:
    (c,) = compare([_m(DIRECT, 1, 0.3, None), _m(PLAIN, 1, 0.6, 0.0), _m(GATEWAY, 1, 0.8, 0.4)])
    assert c.cpu_bar_met is None


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


def _gateway_m(target: str, stream: bool, concurrency: int, cpu: float | None) -> Measurement:
    return Measurement(target, stream, concurrency, 100, 0, 1.0, 1.0, 2.0, cpu, 0.1)


def test_when_bars_are_judged_then_only_the_gateway_counts_each_against_its_own_limit() -> None:
    measurements = [
        _gateway_m(PLAIN, False, 1, 0.3),
        _gateway_m(GATEWAY, False, 1, 1.2),
        _gateway_m(GATEWAY, False, 16, 1.6),
        _gateway_m(GATEWAY, True, 1, 2.9),
        _gateway_m(GATEWAY, True, 16, math.nan),
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
