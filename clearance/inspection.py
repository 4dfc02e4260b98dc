"""The enforcement stages of the pipeline, between routing and the upstream:

    extract texts -> detect -> classify -> decide -> mask   (the pipeline refuses what the decision blocks)

and, on the way back, the response side: the same request's ``Masker`` masks the answer (and restores
placeholders for callers the decision allows), whole or event by event. Detection never rewrites, the policy never
does I/O, masking only applies the decision. Any failure here fails closed: nothing is forwarded.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.exceptions import InspectionFailed, PermissionDenied, UnsupportedInput
from clearance.extract import has_token_ids, iter_texts, rewrite_texts
from clearance.mask.masker import Masker
from clearance.mask.stream import STRUCTURED_TYPES
from clearance.models import Decision, DecisionInput, Finding, Identity, MaskPlan
from clearance.proxy.endpoints import Endpoint

log = logging.getLogger("clearance.inspection")

Scan = Callable[[str], Sequence[Finding]]
Classify = Callable[[Mapping[str, int]], str]
"""The highest level among entity types (given as counts per type)."""
Decide = Callable[[DecisionInput], Decision]


@dataclass(frozen=True, slots=True)
class Inspection:
    decision: Decision
    body: dict[str, Any]
    masker: Masker


class Inspector:
    """Built once per application from the detection engine, the level map and the policy."""

    def __init__(
        self,
        *,
        scan: Scan,
        classify: Classify,
        decide: Decide,
        hash_key: bytes,
        allow_token_ids: bool = False,
        types: frozenset[str] | None = None,
    ) -> None:
        """``types``: every entity type ``scan`` can report (None: unknown, so streams hold every word back)."""
        self._scan = scan
        self._types = types
        self._classify = classify
        self._decide = decide
        self._hash_key = hash_key
        self._allow_token_ids = allow_token_ids

    def safe_scan(self, text: str) -> Sequence[Finding]:
        """Scan, turning any detector failure into ``InspectionFailed`` (fail closed)."""
        try:
            return self._scan(text)
        except Exception as exc:
            log.error("detector failed", extra={"error": type(exc).__name__})
            raise InspectionFailed(
                "the gateway could not inspect this payload, so it was not forwarded; try again or report it "
                "with the request id"
            ) from None

    def _check_scannable(self, endpoint: Endpoint, body: dict[str, Any]) -> None:
        if self._allow_token_ids or endpoint.operation not in ("completion", "embedding"):
            return
        field = "prompt" if endpoint.operation == "completion" else "input"
        if has_token_ids(body.get(field)):
            raise UnsupportedInput(
                f"'{field}' is given as token ids, which cannot be inspected for sensitive data; send text "
                "instead (or ask the operator to set masking.allow_token_ids)",
                param=field,
            )

    def inspect(
        self,
        endpoint: Endpoint,
        body: dict[str, Any],
        *,
        identity: Identity,
        model: str,
        upstream: str,
        declared: str | None,
    ) -> Inspection:
        self._check_scannable(endpoint, body)
        findings: dict[str, Sequence[Finding]] = {}
        for text in iter_texts(body):
            if text not in findings:
                findings[text] = self.safe_scan(text)
        counts = Counter(f.type for fs in findings.values() for f in fs)
        decision = self._decide(
            DecisionInput(
                identity=identity,
                model=model,
                upstream=upstream,
                endpoint=endpoint.name,
                counts=dict(counts),
                level=self._classify(counts),
                declared=declared,
            )
        )
        masker = Masker(decision.plan, self.safe_scan, self._hash_key, hold_words=self._hold_words(decision.plan))
        if decision.action in ("block", "require_approval"):
            return Inspection(decision, body, masker)
        if decision.plan.active and counts:
            try:
                body = rewrite_texts(body, lambda text: masker.apply(text, findings.get(text, ())))
            except Exception as exc:
                log.error("masking failed", extra={"error": type(exc).__name__})
                raise InspectionFailed("the gateway could not mask this payload, so it was not forwarded") from None
        return Inspection(decision, body, masker)

    def _hold_words(self, plan: MaskPlan) -> bool:
        """Whether a plain word could be the start of a value this plan masks (or a placeholder to restore)."""
        if self._types is None or plan.restore:
            return True
        return any(plan.operator_for(t) is not None and t not in STRUCTURED_TYPES for t in self._types)


def denial(decision: Decision) -> PermissionDenied:
    code = "approval_required" if decision.action == "require_approval" else "blocked_by_policy"
    return PermissionDenied(
        decision.message or "this request is not allowed by the data classification policy",
        code=code,
        details={"rule": decision.rule, "reasons": list(decision.reasons), "findings": dict(decision.counts)},
    )


def decision_headers(decision: Decision, masked: Mapping[str, int]) -> dict[str, str]:
    """What the client is told: the decision, its rule and reasons, and counts per type (never values)."""
    headers = {
        "X-Clearance-Decision": decision.action,
        "X-Clearance-Rule": decision.rule,
        "X-Clearance-Reasons": ",".join(decision.reasons),
        "X-Clearance-Level": decision.level,
    }
    if decision.counts:
        headers["X-Clearance-Findings"] = ",".join(f"{t}={n}" for t, n in sorted(decision.counts.items()))
    if masked:
        headers["X-Clearance-Masked"] = ",".join(f"{t}={n}" for t, n in sorted(masked.items()))
    return headers
