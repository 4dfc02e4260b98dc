"""Applying a mask plan to a text: the findings decide *where*, the plan decides *how*; this module only acts.

A ``MaskPlan`` (``clearance.models``) is the part of a policy decision that says which entity types are masked with
which operator, and whether originals may be restored in the answer. ``Masker`` applies it to one text at a time,
for one request (it owns that request's placeholder vault).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

from clearance.mask import operators
from clearance.mask.vault import PlaceholderVault
from clearance.models import Finding, MaskPlan, OperatorName
from clearance.payload.identifiers import IdentifierScan
from clearance.payload.joins import split_findings

Scan = Callable[[str], Sequence[Finding]]


class Masker:
    """Masks texts of one request under one plan. Counts what it masked, per type (never values), in the request
    (``apply``, ``mask``) and in the answer (``outgoing``, ``outgoing_joined``, ``identifier``) apart."""

    __slots__ = ("_hash_key", "_identifiers", "_scan", "answer_counts", "hold_words", "plan", "request_counts", "vault")

    def __init__(
        self,
        plan: MaskPlan,
        scan: Scan,
        hash_key: bytes,
        *,
        hold_words: bool = True,
        identifiers: Scan | None = None,
    ) -> None:
        self.plan = plan
        self.hold_words = hold_words
        """Whether streamed answers must hold a plain word back (``clearance.mask.stream.safe_cut``)."""
        self.vault = PlaceholderVault()
        self.request_counts: Counter[str] = Counter()
        """Values masked in the request, per type."""
        self.answer_counts: Counter[str] = Counter()
        """Values masked in the answer (and in an upstream's error), per type."""
        self._scan = scan
        self._hash_key = hash_key
        self._identifiers = identifiers or IdentifierScan(scan)

    def _replacement(self, value: str, finding: Finding, op: OperatorName) -> str:
        if op == "redact":
            return operators.redact(finding.type)
        if op == "partial":
            return operators.partial(value, finding.type)
        if op == "hash":
            return operators.keyed_hash(value, finding.type, self._hash_key)
        return self.vault.placeholder(value, finding.type)

    def apply(self, text: str, findings: Sequence[Finding]) -> str:
        """A request's text with every finding whose type the plan masks replaced. ``findings`` index ``text`` and
        do not overlap."""
        return self._apply(text, findings, self.request_counts)

    def apply_at(self, text: str, findings: Sequence[Finding]) -> tuple[str, list[Finding]]:
        """``apply``, and where each finding sits in the result: a masked one where its replacement is, one the plan
        lets through where it moved to (a finding overlapping a masked one is left out, as it is not applied)."""
        at: list[Finding] = []
        return self._apply(text, findings, self.request_counts, at), at

    def _apply(
        self, text: str, findings: Sequence[Finding], counts: Counter[str], at: list[Finding] | None = None
    ) -> str:
        out: list[str] = []
        last = 0
        size = 0  # the length of what ``out`` holds: text[:last], masked
        for finding in sorted(findings, key=lambda f: f.start):
            op = self.plan.operator_for(finding.type)
            if finding.start < last:
                continue
            if op is None:
                if at is not None:
                    shift = size - last
                    at.append(Finding(finding.start + shift, finding.end + shift, finding.type, finding.score))
                continue
            before = text[last : finding.start]
            replacement = self._replacement(text[finding.start : finding.end], finding, op)
            out.append(before)
            out.append(replacement)
            if at is not None:
                start = size + len(before)
                at.append(Finding(start, start + len(replacement), finding.type, finding.score))
            size += len(before) + len(replacement)
            counts[finding.type] += 1
            last = finding.end
        if last == 0:
            return text
        out.append(text[last:])
        return "".join(out)

    def mask(self, text: str) -> str:
        """Scan and mask a request's text in one step."""
        if not text or not self.plan.active:
            return text
        return self.apply(text, self._scan(text))

    def _findings(self, text: str, context: str) -> list[Finding]:
        """Findings in ``text``, scanned after ``context`` so nearby words count; offsets index ``text``. For a
        caller who sees originals restored, the originals this request's placeholders stand for are left out: only
        they go back to the caller, and any other value of a placeholder type (one the model brings from elsewhere)
        is masked like every other value."""
        whole = context + text
        shift = len(context)
        out = []
        for f in self._scan(whole):
            if f.end <= shift:
                continue  # wholly in the context: masked when it was released
            if self.plan.restore and self._restored(whole[f.start : f.end], f.type):
                continue
            # a finding reaching into the text is masked there, even if it began before
            out.append(Finding(max(f.start - shift, 0), f.end - shift, f.type, f.score, f.detector))
        return out

    def _restored(self, value: str, entity_type: str) -> bool:
        return self.plan.operator_for(entity_type) == "placeholder" and self.vault.issued(value)

    def outgoing(self, text: str, context: str = "") -> str:
        """An answer's text on its way to the caller: originals restored if allowed, then masked.

        Restoring first means a value the model repeated in clear is masked like any other, and a restored
        placeholder is shown only to callers the plan allows.
        """
        if self.plan.restore:
            text = self.vault.restore(text)
        if not text or not self.plan.active:
            return text
        return self._apply(text, self._findings(text, context), self.answer_counts)

    def outgoing_joined(self, texts: Sequence[str]) -> list[str]:
        """``texts`` of one answer read one after the other, as a client that joins them reads them (the openai
        SDK's ``output_text`` joins every text part of every output item): a value crossing a join
        (``clearance.payload.joins``) is masked in each text it touches. Values inside one text are ``outgoing``'s
        job."""
        if len(texts) < 2 or not self.plan.active:
            return list(texts)
        pieces: list[list[Finding]] = [[] for _ in texts]
        for split in split_findings(texts, self._scan):
            value = "".join(texts[i][f.start : f.end] for i, f in split.pieces)
            if self.plan.restore and self._restored(value, split.type):
                continue  # as ``outgoing``: a restoring caller sees the originals of its placeholders
            for i, finding in split.pieces:
                pieces[i].append(finding)
        return [
            self._apply(text, found, self.answer_counts) if found else text
            for text, found in zip(texts, pieces, strict=True)
        ]

    def identifier(self, value: str) -> str:
        """An answer's key, id or name on its way to the caller: itself, or, when it holds a value the plan masks
        (``clearance.payload.identifiers``: glued values too), the type's redaction in its place. An identifier is
        replaced whole: half an id means nothing, and a partial mask of a glued value may keep most of it."""
        if not value or not self.plan.active:
            return value
        for finding in self._identifiers(value):
            if self.plan.operator_for(finding.type) is not None:
                self.answer_counts[finding.type] += 1
                return operators.redact(finding.type)
        return value
