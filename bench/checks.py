"""The masking benchmark's correctness checks: what crossed each side, judged against ``bench.sensitive``'s
expectations, counted, and turned into verdicts. No I/O here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.expectations import problem
from bench.figures import DIRECT, GATEWAY, PLAIN
from bench.sensitive import GATEWAY_UPSTREAM, UNMASKED_UPSTREAM


@dataclass
class Tally:
    """How many things were checked, how many failed, and the first failure."""

    checked: int = 0
    failed: int = 0
    sample: str | None = None

    def count(self, checked: int, failed: int, sample: str | None) -> None:
        self.checked += checked
        self.failed += failed
        self.sample = self.sample or sample

    def add(self, other: Tally) -> None:
        self.count(other.checked, other.failed, other.sample)


def _from_gateway(headers: Mapping[str, str]) -> bool:
    """The gateway sends every upstream request with its ``X-Request-ID``; the load generator and the plain proxy
    send none."""
    return any(name.lower() == "x-request-id" for name in headers)


@dataclass
class ReceivedReport:
    """Requests an upstream double received, judged: those the gateway sent (must be masked) and those sent direct
    or through the plain proxy (must hold the raw values: proof that the check can fail)."""

    gateway: Tally = field(default_factory=Tally)
    unmasked: Tally = field(default_factory=Tally)

    def check(self, headers: Mapping[str, str], body: Any) -> None:
        gateway = _from_gateway(headers)
        tally, expected = (self.gateway, GATEWAY_UPSTREAM) if gateway else (self.unmasked, UNMASKED_UPSTREAM)
        found = problem(orjson.dumps(body).decode(), expected.required, expected.forbidden, "upstream")
        tally.count(1, int(found is not None), found)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReceivedReport:
        return cls(**{side: Tally(**data.get(side, {})) for side in ("gateway", "unmasked")})

    def add(self, other: ReceivedReport) -> None:
        self.gateway.add(other.gateway)
        self.unmasked.add(other.unmasked)


@dataclass(frozen=True)
class Check:
    """One correctness check: every one of ``expected`` things was checked, and none failed."""

    name: str
    tally: Tally
    expected: int

    @property
    def passed(self) -> bool:
        return self.tally.failed == 0 and self.tally.checked == self.expected and self.expected > 0

    def describe(self) -> str:
        t = self.tally
        text = f"{t.checked} checked of {self.expected} sent, {t.failed} failed"
        return text + (f" (first: {t.sample})" if t.sample else "") + ("" if self.passed else "  FAILED")


def verdicts(answers: Mapping[str, Tally], sent: Mapping[str, int], upstream: ReceivedReport) -> list[Check]:
    """The four checks of a run: the answers each side's caller got, and the requests each upstream got, through
    the gateway (masked) and direct or via the plain proxy (raw: these prove the checks can fail)."""
    unmasked_answers = Tally()
    for target in (DIRECT, PLAIN):
        unmasked_answers.add(answers[target])
    unmasked_sent = sent[DIRECT] + sent[PLAIN]
    return [
        Check(
            "answers through the gateway: masked forms present, no raw card, SSN or token (streams: deltas joined)",
            answers[GATEWAY],
            sent[GATEWAY],
        ),
        Check("answers direct and via the plain proxy: the raw values present", unmasked_answers, unmasked_sent),
        Check(
            "requests the gateway sent upstream: masked forms present, no raw card, SSN or token",
            upstream.gateway,
            sent[GATEWAY],
        ),
        Check("requests sent direct and via the plain proxy: the raw values present", upstream.unmasked, unmasked_sent),
    ]
