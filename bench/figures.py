"""The figures a gateway benchmark run produces, and what is computed from them: rounds pooled per target, each
proxy against the same run's baseline (going direct) and floor (the plain proxy), time to first token, and the
bars each figure is judged on. No I/O here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

DIRECT = "direct"
PLAIN = "plain proxy"
GATEWAY = "gateway"
TARGETS = (DIRECT, PLAIN, GATEWAY)

CPU_RATIO_BAR = 1.5
"""Gateway CPU per request may be at most this many times the plain aiohttp pass-through's."""
ADDED_P50_BAR_MS = 1.0
"""At concurrency 1, the gateway may add at most this much to the median latency of going direct."""
CPU_PER_REQUEST_BAR_MS = 1.5
"""Gateway CPU per whole chat request (2 KB prompt, masking on) must stay under this."""
CPU_PER_STREAM_BAR_MS = 3.0
"""Gateway CPU per 60-event streamed answer (masking on) must stay under this."""
ADDED_TTFT_P50_BAR_MS = 5.0
"""The gateway may add at most this to the median time to first token of going direct (paced upstream)."""


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (``q`` in 0..100) of ``values``; NaN when there are none."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Round:
    """One timed stretch of load against one target: what the load generator saw, and the CPU the OS counted."""

    latencies_ms: Sequence[float]
    errors: int
    elapsed_s: float
    proxy_cpu_s: float | None
    """The proxy's whole process tree; None when going direct (there is no proxy)."""
    upstream_cpu_s: float
    error_sample: str | None = None

    @property
    def sent(self) -> int:
        return len(self.latencies_ms) + self.errors


@dataclass(frozen=True)
class Measurement:
    """One target under one scenario, its rounds pooled. CPU figures are milliseconds per request sent."""

    target: str
    stream: bool
    concurrency: int
    completed: int
    errors: int
    elapsed_s: float
    p50_ms: float
    p99_ms: float
    proxy_cpu_ms: float | None
    upstream_cpu_ms: float
    proxy_cpu_ms_rounds: tuple[float, ...] = ()
    """The proxy's CPU per request in each round, to show how much the machine's noise moved it."""
    error_sample: str | None = None

    @property
    def requests_per_s(self) -> float:
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0


def _per_request_ms(cpu_s: float, sent: int) -> float:
    return cpu_s * 1000.0 / max(1, sent)


def measurement(target: str, stream: bool, concurrency: int, rounds: Sequence[Round]) -> Measurement:
    """Pool the rounds: latency percentiles over every request, CPU per request over every request sent."""
    latencies = [latency for r in rounds for latency in r.latencies_ms]
    sent = sum(r.sent for r in rounds)
    proxied = all(r.proxy_cpu_s is not None for r in rounds)
    proxy_cpu = [r.proxy_cpu_s or 0.0 for r in rounds]
    return Measurement(
        target=target,
        stream=stream,
        concurrency=concurrency,
        completed=len(latencies),
        errors=sum(r.errors for r in rounds),
        elapsed_s=sum(r.elapsed_s for r in rounds),
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        proxy_cpu_ms=_per_request_ms(sum(proxy_cpu), sent) if proxied else None,
        upstream_cpu_ms=_per_request_ms(sum(r.upstream_cpu_s for r in rounds), sent),
        proxy_cpu_ms_rounds=tuple(_per_request_ms(c, r.sent) for c, r in zip(proxy_cpu, rounds, strict=True))
        if proxied
        else (),
        error_sample=next((r.error_sample for r in rounds if r.error_sample), None),
    )


@dataclass(frozen=True)
class Comparison:
    """The gateway against the floor (plain proxy) and the baseline (direct) in one scenario."""

    stream: bool
    concurrency: int
    direct_p50_ms: float
    plain_added_p50_ms: float
    gateway_added_p50_ms: float
    gateway_vs_direct_p50: float
    """Gateway median latency divided by the direct median latency."""
    gateway_vs_plain_cpu: float
    """Gateway CPU per request divided by the plain proxy's (all rounds pooled)."""
    gateway_vs_plain_cpu_rounds: tuple[float, ...] = ()
    """The same ratio round by round (gateway and plain proxy rounds run back to back)."""

    @property
    def cpu_bar_met(self) -> bool | None:
        """Whether the CPU bar holds; None when the plain proxy's CPU was too small to read (a tiny run)."""
        if math.isnan(self.gateway_vs_plain_cpu):
            return None
        return self.gateway_vs_plain_cpu <= CPU_RATIO_BAR

    @property
    def latency_bar_met(self) -> bool | None:
        """Whether the added-latency bar holds; None where it does not apply (concurrency above 1)."""
        if self.concurrency != 1:
            return None
        return self.gateway_added_p50_ms < ADDED_P50_BAR_MS


def _ratio(a: float, b: float) -> float:
    return a / b if b > 0 else math.nan


def compare(measurements: Sequence[Measurement]) -> list[Comparison]:
    """One comparison per scenario that has all three targets, in the order the scenarios were run."""
    by_key: dict[tuple[bool, int], dict[str, Measurement]] = {}
    for m in measurements:
        by_key.setdefault((m.stream, m.concurrency), {})[m.target] = m
    out = []
    for (stream, concurrency), group in by_key.items():
        if not all(t in group for t in TARGETS):
            continue
        direct, plain, gateway = group[DIRECT], group[PLAIN], group[GATEWAY]
        assert plain.proxy_cpu_ms is not None and gateway.proxy_cpu_ms is not None
        out.append(
            Comparison(
                stream=stream,
                concurrency=concurrency,
                direct_p50_ms=direct.p50_ms,
                plain_added_p50_ms=plain.p50_ms - direct.p50_ms,
                gateway_added_p50_ms=gateway.p50_ms - direct.p50_ms,
                gateway_vs_direct_p50=_ratio(gateway.p50_ms, direct.p50_ms),
                gateway_vs_plain_cpu=_ratio(gateway.proxy_cpu_ms, plain.proxy_cpu_ms),
                gateway_vs_plain_cpu_rounds=tuple(
                    _ratio(g, p) for g, p in zip(gateway.proxy_cpu_ms_rounds, plain.proxy_cpu_ms_rounds, strict=False)
                ),
            )
        )
    return out


@dataclass(frozen=True)
class FirstToken:
    """One target's streams against the paced upstream: from sending the request to the first content delta with
    text (``ttft``), and to the first event of any content (``first_event``)."""

    target: str
    samples: int
    ttft_p50_ms: float
    ttft_p99_ms: float
    first_event_p50_ms: float
    first_event_p99_ms: float


def first_token(target: str, ttft_ms: Sequence[float], first_event_ms: Sequence[float]) -> FirstToken:
    return FirstToken(
        target=target,
        samples=len(ttft_ms),
        ttft_p50_ms=percentile(ttft_ms, 50),
        ttft_p99_ms=percentile(ttft_ms, 99),
        first_event_p50_ms=percentile(first_event_ms, 50),
        first_event_p99_ms=percentile(first_event_ms, 99),
    )


@dataclass(frozen=True)
class AddedFirstToken:
    """What a proxy adds to going direct, percentile by percentile (the requests are not paired)."""

    target: str
    ttft_p50_ms: float
    ttft_p99_ms: float
    first_event_p50_ms: float
    first_event_p99_ms: float


def added_first_token(rows: Sequence[FirstToken]) -> list[AddedFirstToken]:
    """Each proxy's figures minus the direct ones; empty when there is no direct row."""
    direct = next((r for r in rows if r.target == DIRECT), None)
    if direct is None:
        return []
    return [
        AddedFirstToken(
            target=r.target,
            ttft_p50_ms=r.ttft_p50_ms - direct.ttft_p50_ms,
            ttft_p99_ms=r.ttft_p99_ms - direct.ttft_p99_ms,
            first_event_p50_ms=r.first_event_p50_ms - direct.first_event_p50_ms,
            first_event_p99_ms=r.first_event_p99_ms - direct.first_event_p99_ms,
        )
        for r in rows
        if r.target != DIRECT
    ]


@dataclass(frozen=True)
class Bar:
    """One of the issue's bars: a gateway figure and the limit it must stay under."""

    name: str
    figure: float
    limit: float

    @property
    def met(self) -> bool | None:
        """None when the run had no figure for it (NaN: nothing measured)."""
        return None if math.isnan(self.figure) else self.figure < self.limit


@dataclass(frozen=True)
class MaskingFigures:
    """Everything one run found."""

    measurements: Sequence[Measurement]
    """Whole and streamed answers against the instant upstream."""
    paced: Sequence[Measurement]
    """Streams against the paced upstream (the time-to-first-token phase)."""
    first_token: Sequence[FirstToken]
    added: Sequence[AddedFirstToken]
    bars: Sequence[Bar]
    checks: dict[str, str]
    """What each correctness check found, in words (never a value)."""


def _gateway_cpu(m: Measurement) -> float:
    return math.nan if m.proxy_cpu_ms is None else m.proxy_cpu_ms


def bars(measurements: Sequence[Measurement], added: Sequence[AddedFirstToken]) -> list[Bar]:
    """The bars, judged on the gateway's figures: CPU per whole request and per stream at each concurrency measured
    against the instant upstream (the issue's setting), and the added median time to first token (paced)."""
    out = []
    for m in measurements:
        if m.target != GATEWAY:
            continue
        what = "stream" if m.stream else "whole request"
        limit = CPU_PER_STREAM_BAR_MS if m.stream else CPU_PER_REQUEST_BAR_MS
        out.append(Bar(f"gateway CPU ms per {what}, c={m.concurrency}", _gateway_cpu(m), limit))
    for a in added:
        if a.target == GATEWAY:
            out.append(Bar("gateway added time to first token, p50 ms", a.ttft_p50_ms, ADDED_TTFT_P50_BAR_MS))
    return out
