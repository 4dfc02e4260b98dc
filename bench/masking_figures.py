"""The masking benchmark's figures: time to first token per target, what a proxy adds to it, and the issue's bars
(absolute: CPU per request and per stream, added time to first token). No I/O here."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.figures import DIRECT, GATEWAY, Measurement, percentile

CPU_PER_REQUEST_BAR_MS = 1.5
"""Gateway CPU per whole chat request (2 KB prompt, masking on) must stay under this."""
CPU_PER_STREAM_BAR_MS = 3.0
"""Gateway CPU per 60-event streamed answer (masking on) must stay under this."""
ADDED_TTFT_P50_BAR_MS = 5.0
"""The gateway may add at most this to the median time to first token of going direct (paced upstream)."""


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
