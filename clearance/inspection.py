"""The enforcement stages of the pipeline, between routing and the upstream:

    extract texts -> detect -> classify -> decide -> mask   (the pipeline refuses what the decision blocks)

and, on the way back, the response side: the same request's ``Masker`` masks the answer (and restores
placeholders for callers the decision allows), whole or event by event. Detection never rewrites, the policy never
does I/O, masking only applies the decision. Any failure here fails closed: nothing is forwarded.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clearance.exceptions import InspectionFailed, InvalidRequest, PermissionDenied, UnsupportedInput
from clearance.extract import Leaf, Path, rewrite_texts, structural_format, walk
from clearance.identifiers import SEPARATORS, IdentifierScan
from clearance.joins import split_findings
from clearance.mask.masker import Masker
from clearance.mask.stream import STRUCTURED_TYPES
from clearance.models import Decision, DecisionInput, Finding, Identity, MaskPlan
from clearance.proxy.endpoints import Endpoint

log = logging.getLogger("clearance.inspection")

Scan = Callable[[str], Sequence[Finding]]
Classify = Callable[[Mapping[str, int]], str]
"""The highest level among entity types (given as counts per type)."""
Decide = Callable[[DecisionInput], Decision]
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


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
        self._identifiers = IdentifierScan(self.safe_scan)
        """Findings per key or structural string, remembered: the same few recur in every request and event."""

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
        """Inspect every leaf of ``body`` (``extract.walk``), decide, and mask the texts.

        Refused with 400 before any decision: a structural string out of its strict format (``InvalidRequest``),
        token ids unless ``allow_token_ids`` (``UnsupportedInput``). Refused with 400 after the decision: a key or
        a structural string holding a finding the plan masks (neither can be masked without changing what the
        request means). Numbers holding a finding the plan masks are replaced by their masked digits, a string.
        Values split across adjacent texts (``clearance.joins``) are masked piece by piece.
        """
        leaves = list(walk(body))
        self._refuse_unforwardable(leaves)
        findings: dict[str, list[Finding]] = {}
        texts: list[str] = []
        fixed: list[tuple[Leaf, list[Finding]]] = []
        for leaf in leaves:
            if leaf.kind == "text":
                texts.append(leaf.value)
                if leaf.value not in findings:
                    findings[leaf.value] = list(self.safe_scan(leaf.value))
            elif leaf.kind == "number":
                found = self._scan_labelled(leaf.value, leaf.context)
                if found:
                    findings[leaf.value] = _disjoint([*findings.get(leaf.value, ()), *found])
            elif leaf.kind in ("key", "structure"):
                found = self._scan_structure(leaf.value)
                if found:
                    fixed.append((leaf, found))
        counts = Counter(f.type for fs in findings.values() for f in fs)
        for split in split_findings(texts, self.safe_scan):
            counts[split.type] += 1
            for index, piece in split.pieces:
                findings[texts[index]] = _disjoint([*findings[texts[index]], piece])
        counts.update(f.type for _leaf, found in fixed for f in found)
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
        masker = Masker(
            decision.plan,
            self.safe_scan,
            self._hash_key,
            hold_words=self._hold_words(decision.plan),
            identifiers=self._identifiers,
        )
        if decision.action in ("block", "require_approval"):
            return Inspection(decision, body, masker)
        self._refuse_unmaskable(fixed, decision.plan)
        if decision.plan.active and counts:
            try:
                body = rewrite_texts(body, lambda text: masker.apply(text, findings.get(text, ())))
            except Exception as exc:
                log.error("masking failed", extra={"error": type(exc).__name__})
                raise InspectionFailed("the gateway could not mask this payload, so it was not forwarded") from None
        return Inspection(decision, body, masker)

    def _refuse_unforwardable(self, leaves: list[Leaf]) -> None:
        """What can be neither inspected nor masked: structure out of format, token ids (unless allowed)."""
        for leaf in leaves:
            if leaf.kind == "malformed":
                raise InvalidRequest(
                    f"'{self._where(leaf.path)}' must be {structural_format(leaf.context)}; structural fields are "
                    "forwarded only in their strict format, so the request was refused",
                    param=self._where(leaf.path),
                )
            if leaf.kind == "token_ids" and not self._allow_token_ids:
                raise UnsupportedInput(
                    f"'{self._where(leaf.path)}' is given as token ids, which cannot be inspected for sensitive data; "
                    "send text instead (or ask the operator to set masking.allow_token_ids)",
                    param=self._where(leaf.path),
                )

    def _refuse_unmaskable(self, fixed: list[tuple[Leaf, list[Finding]]], plan: MaskPlan) -> None:
        """A key or structural string holding a value the plan masks: masking it would change the request."""
        for leaf, found in fixed:
            types = sorted({f.type for f in found if plan.operator_for(f.type) is not None})
            if not types:
                continue
            where = self._where(leaf.path)
            what = "an object key" if leaf.kind == "key" else "a structural field (role, type, id, name…)"
            raise InvalidRequest(
                f"'{where}' is {what} holding sensitive data ({', '.join(types)}), which cannot be masked there "
                "without changing the request, so it was refused; send the value inside a text field instead",
                param=where,
            )

    def _scan_structure(self, value: str) -> list[Finding]:
        """Findings in a key or structural string (``clearance.identifiers``), for their types."""
        return self._identifiers(value)

    def _scan_labelled(self, digits: str, label: str) -> list[Finding]:
        """Findings in a number's digits, read after the key it sits under (``"ssn": 123456789`` is an SSN)."""
        if not label:
            return list(self.safe_scan(digits))
        prefix = SEPARATORS.sub(" ", label).strip() + " "
        shift = len(prefix)
        return [
            Finding(max(f.start - shift, 0), f.end - shift, f.type, f.score, f.detector)
            for f in self.safe_scan(prefix + digits)
            if f.end > shift
        ]

    def _where(self, path: Path) -> str:
        """A path for messages: keys shown only when plainly a field name holding nothing (never a value)."""
        out = ""
        for part in path:
            if isinstance(part, int):
                out += f"[{part}]"
                continue
            shown = part if _FIELD_NAME.fullmatch(part) and not self._scan_structure(part) else "<key>"
            out += f".{shown}" if out else shown
        return out

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


def _disjoint(findings: list[Finding]) -> list[Finding]:
    """Findings sorted and merged where they overlap (the masker takes disjoint spans), each keeping the type of
    the first."""
    out: list[Finding] = []
    for f in sorted(findings):
        if out and f.start < out[-1].end:
            last = out[-1]
            out[-1] = Finding(last.start, max(last.end, f.end), last.type, last.score, last.detector)
        else:
            out.append(f)
    return out
