"""The enforcement stages of the pipeline, between routing and the upstream:

    extract texts -> detect -> classify -> decide -> mask   (the pipeline refuses what the decision blocks)

and, on the way back, the response side: the same request's ``Masker`` masks the answer (and restores
placeholders for callers the decision allows), whole or event by event. Detection never rewrites, the policy never
does I/O, masking only applies the decision. Any failure here fails closed: nothing is forwarded.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Final

from clearance.config import GatewayConfig
from clearance.detect.scanner import Scanner
from clearance.endpoints import Endpoint
from clearance.entities import STRUCTURED_TYPES
from clearance.exceptions import InspectionFailed, InvalidRequest, UnsupportedInput
from clearance.mask import operators
from clearance.mask.events import mask_answer
from clearance.mask.masker import Masker
from clearance.models import UNMASKED, Decision, DecisionInput, Finding, FindingPosition, Identity, MaskPlan, Release
from clearance.payload.extract import (
    Leaf,
    Path,
    Walked,
    number_digits,
    rewrite_paths,
    structural_format,
    summarise_images,
    walk_body,
)
from clearance.payload.identifiers import CACHED_CHARS, CACHED_STRINGS, SEPARATORS, IdentifierScan
from clearance.payload.joins import SplitFinding, split_findings

log = logging.getLogger("clearance.enforce.inspector")


Scan = Callable[[str], Sequence[Finding]]
Classify = Callable[[Mapping[str, int]], str]
"""The highest level among entity types (given as counts per type)."""
Decide = Callable[[DecisionInput], Decision]
_FIELD_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_READ_KINDS = frozenset({"text", "number", "key", "structure"})
"""Leaves whose value a model reads (token ids and malformed structure are refused before any join)."""
MAX_POSITIONS: Final = 1000
"""The most finding positions an inspection keeps (a request with more keeps its first, in document order)."""
UNNAMED_KEY: Final = "<key>"
"""A key shown in a path instead of one that is not a plain field name (it could hold a value)."""


@dataclass(frozen=True, slots=True)
class Inspection:
    """What the enforcement stage found and did: the decision, the body to forward (masked), what was masked in
    it per type, and the request's masker (which masks its answer)."""

    decision: Decision
    body: dict[str, Any]
    masker: Masker
    masked: Mapping[str, int]
    """Values masked in ``body``, per type (empty when nothing was, and for a decision that refuses)."""
    held: _Held | None = field(default=None, repr=False, compare=False)
    """For a ``require_approval`` decision: what masking needs, kept for ``Inspector.release`` and
    ``Inspector.preview`` (the body is not masked until a grant releases it)."""
    positions: tuple[FindingPosition, ...] = ()
    """Where the findings sit in ``body`` (masked where masked), by leaf path: in the body as received when the
    decision refuses or holds it. At most ``MAX_POSITIONS``."""


@dataclass(frozen=True, slots=True)
class _Held:
    """A held request's leaves and where its findings sit, so it can be masked later without scanning again."""

    walked: Walked
    findings: Mapping[str, list[Finding]]
    fixed: list[tuple[Leaf, list[Finding]]]


REDACT_ALL: Final = MaskPlan(otherwise="redact")
"""Every finding redacted, whatever its type: the request as someone without any clearance would see it."""


def build_inspector(config: GatewayConfig, scanner: Scanner, *, classify: Classify, decide: Decide) -> Inspector:
    """The enforcement stage as ``config`` sets it up: the gateway and ``clearance policy test`` both build theirs
    here, so a dry run applies exactly what the gateway applies."""
    return Inspector(
        scan=scanner.scan,
        types=frozenset(t for detector in scanner.detectors for t in detector.types),
        classify=classify,
        decide=decide,
        hash_key=hash_key(config),
        allow_token_ids=config.masking.allow_token_ids,
        detector_version=config.detection.version,
    )


def hash_key(config: GatewayConfig) -> bytes:
    """The key of the ``hash`` operator: ``masking.hash_key``, or a random one (stable only within a process)."""
    if config.masking.hash_key is not None:
        return config.masking.hash_key.resolve().encode()
    log.warning("masking.hash_key is not set: hashed values are stable only within this process")
    return secrets.token_bytes(32)


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
        detector_version: str = "",
    ) -> None:
        """``types``: every entity type ``scan`` can report (None: unknown, so streams hold every word back).
        ``detector_version``: what ``scan`` is, as a digest (``DetectionConfig.version``), for the audit record."""
        self.detector_version = detector_version
        self._scan = scan
        self._types = types
        self._classify = classify
        self._decide = decide
        self._hash_key = hash_key
        self._allow_token_ids = allow_token_ids
        self._identifiers = IdentifierScan(self.safe_scan)
        """Findings per key or structural string, remembered: the same few recur in every request and event."""
        self._pair_findings: dict[tuple[str, str], list[SplitFinding]] = {}
        """Splits per pair of keys or structural strings (``_pair_splits``)."""

    def deciding_by(self, classify: Classify, decide: Decide) -> Inspector:
        """The same stage (detection, hash key, settings) deciding by another policy: what this gateway would do
        once that policy were loaded (a reload swaps the policy, not the scanner)."""
        return Inspector(
            scan=self._scan,
            classify=classify,
            decide=decide,
            hash_key=self._hash_key,
            allow_token_ids=self._allow_token_ids,
            types=self._types,
            detector_version=self.detector_version,
        )

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
        walked: Walked | None = None,
    ) -> Inspection:
        """Inspect every leaf of ``body`` (``extract.walk``; ``walked``: the leaves already walked, as the gateway
        walks a body once when it reads it), decide, and mask the texts.

        Refused with 400 before any decision: a structural string out of its strict format (``InvalidRequest``),
        token ids unless ``allow_token_ids`` (``UnsupportedInput``). Refused with 400 after the decision: a key or
        a structural string holding a finding the plan masks (neither can be masked without changing what the
        request means). Numbers holding a finding the plan masks are replaced by their masked digits, a string.
        Values split across adjacent texts (``clearance.payload.joins``) are masked piece by piece.
        """
        walked = walked if walked is not None and walked.body is body else walk_body(body)
        leaves = walked.leaves
        self._refuse_unforwardable(leaves)
        findings: dict[str, list[Finding]] = {}
        fixed: list[tuple[Leaf, list[Finding]]] = []
        for leaf in leaves:
            if leaf.kind == "text":
                if leaf.value not in findings:
                    findings[leaf.value] = list(self.safe_scan(leaf.value))
            elif leaf.kind == "number":
                found = self._scan_number(leaf.value, leaf.context)
                if found:
                    findings[leaf.value] = _disjoint([*findings.get(leaf.value, ()), *found])
            elif leaf.kind in ("key", "structure"):
                found = self._identifiers(leaf.value)
                if found:
                    fixed.append((leaf, found))
        counts = Counter(f.type for fs in findings.values() for f in fs)
        values = [leaf.value for leaf in leaves if leaf.kind in ("text", "number")]
        for split in split_findings(values, self.safe_scan):
            counts[split.type] += 1
            for index, piece in split.pieces:
                findings[values[index]] = _disjoint([*findings.get(values[index], ()), piece])
        fixed += self._structure_splits(leaves, findings)
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
        masker = self._masker(decision.plan)
        if decision.action in ("block", "require_approval"):
            held = _Held(walked, findings, fixed) if decision.action == "require_approval" else None
            return Inspection(decision, body, masker, {}, held, self._positions(walked, findings, fixed, {}))
        masked, spans = self._masked(masker, walked, findings, fixed)
        positions = self._positions(walked, findings, fixed, spans)
        return Inspection(decision, masked, masker, dict(masker.request_counts), positions=positions)

    def release(self, inspection: Inspection) -> Inspection:
        """A held (``require_approval``) request whose grant was used: masked under its decision's plan, which
        lets through data up to the model's level (the policy grants past the caller's clearance, never past
        the model's level), and refused like any request where that plan masks a key or structural string."""
        held = _held(inspection)
        masker = inspection.masker
        body, spans = self._masked(masker, held.walked, held.findings, held.fixed)
        positions = self._positions(held.walked, held.findings, held.fixed, spans)
        return Inspection(inspection.decision, body, masker, dict(masker.request_counts), positions=positions)

    def preview(self, inspection: Inspection) -> dict[str, Any]:
        """A held request as approvers see it: every finding redacted (``REDACT_ALL``), whatever the caller's
        clearance, and every image replaced by a marker (``summarise_images``), so a preview never holds a raw
        value. A key or structural string holding a finding cannot be
        redacted without changing the request: such a request is refused (400), as it would be if it were sent."""
        held = _held(inspection)
        shown: dict[str, Any] = summarise_images(
            self._masked(self._masker(REDACT_ALL), held.walked, held.findings, held.fixed)[0]
        )
        return shown

    @staticmethod
    def released_as(inspection: Inspection) -> dict[str, Release]:
        """For a held request, per type found: how its values reach the model if the request is approved
        (``release``): ``unmasked``, or the operator the decision's plan still applies (data above the model's
        level stays masked). What an approver lets through, said before they decide."""
        _held(inspection)  # refuses anything but a held request
        plan = inspection.decision.plan
        return {kind: plan.operator_for(kind) or UNMASKED for kind in sorted(inspection.decision.counts)}

    def redact(self, text: str) -> str:
        """``text`` with every finding redacted (``REDACT_ALL``): a requester's stated reason, before approvers
        read it."""
        return self._masker(REDACT_ALL).mask(text)

    def redact_document(self, node: Any) -> Any:
        """A copy of the JSON value ``node`` with every finding redacted (``REDACT_ALL``) in every string, key and
        number (a number holding one becomes its type's redaction): a request as the audit trail may keep it.
        Each string is scanned alone; a number is read after its key, as a request's are."""
        masker = self._masker(REDACT_ALL)

        def redact(value: Any, key: str) -> Any:
            if isinstance(value, str):
                return masker.mask(value)
            if isinstance(value, dict):
                return {masker.mask(k): redact(v, k) for k, v in value.items()}
            if isinstance(value, list):
                return [redact(v, key) for v in value]
            digits = number_digits(value)
            if digits is not None and (found := self._scan_number(digits, key)):
                return operators.redact(found[0].type)
            return value

        return redact(node, "")

    def redact_answer(self, answer: Any) -> Any:
        """A whole answer with every finding redacted (``REDACT_ALL``), read as answers are for callers
        (``mask_answer``: values across joins, identifiers, logprobs dropped), restoring nothing: an answer as
        the audit trail may keep it."""
        return mask_answer(self._masker(REDACT_ALL), answer)

    def _masker(self, plan: MaskPlan) -> Masker:
        return Masker(
            plan, self.safe_scan, self._hash_key, hold_words=self._hold_words(plan), identifiers=self._identifiers
        )

    def _masked(
        self,
        masker: Masker,
        walked: Walked,
        findings: Mapping[str, Sequence[Finding]],
        fixed: list[tuple[Leaf, list[Finding]]],
    ) -> tuple[dict[str, Any], dict[str, list[Finding]]]:
        """The body with every finding the masker's plan masks replaced (refused when one sits where it cannot),
        and, per text that masking changed, where its findings sit in the result (``Masker.apply_at``)."""
        self._refuse_unmaskable(fixed, masker.plan)
        body: dict[str, Any] = walked.body
        spans: dict[str, list[Finding]] = {}
        if not masker.plan.active or not any(findings.values()):
            return body, spans

        def apply(text: str) -> str:
            out, spans[text] = masker.apply_at(text, findings.get(text, ()))
            return out

        try:
            masked: dict[str, Any] = rewrite_paths(walked, _found_at(walked, findings), apply)
            return masked, spans
        except Exception as exc:
            log.error("masking failed", extra={"error": type(exc).__name__})
            raise InspectionFailed("the gateway could not mask this payload, so it was not forwarded") from None

    def _positions(
        self,
        walked: Walked,
        findings: Mapping[str, Sequence[Finding]],
        fixed: list[tuple[Leaf, list[Finding]]],
        spans: Mapping[str, Sequence[Finding]],
    ) -> tuple[FindingPosition, ...]:
        """Where each finding sits, by leaf path, in document order: in the masked text where masking changed it
        (``spans``), else where it was found; keys and structural strings as they are (never masked)."""
        out: list[FindingPosition] = []
        keyed: dict[int, list[Finding]] = {}
        for leaf, found_there in fixed:
            keyed.setdefault(id(leaf), []).extend(found_there)
        for leaf in walked.leaves:
            if leaf.kind in ("text", "number"):
                found: Sequence[Finding] = spans.get(leaf.value) or findings.get(leaf.value, ())
            else:
                found = keyed.get(id(leaf), ())
            if not found:
                continue
            path = self._recordable_path(leaf.path)
            for f in found:
                if len(out) >= MAX_POSITIONS:
                    return tuple(out)
                out.append(FindingPosition(f.type, path, f.start, f.end))
        return tuple(out)

    def _recordable_path(self, path: Path) -> tuple[str | int, ...]:
        """``path`` with every key that is not plainly a field name holding nothing shown as ``UNNAMED_KEY``."""
        return tuple(
            part
            if isinstance(part, int) or (_FIELD_NAME.fullmatch(part) and not self._identifiers(part))
            else UNNAMED_KEY
            for part in path
        )

    def _refuse_unforwardable(self, leaves: Sequence[Leaf]) -> None:
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

    def _structure_splits(
        self, leaves: Sequence[Leaf], findings: dict[str, list[Finding]]
    ) -> list[tuple[Leaf, list[Finding]]]:
        """Values split between a key or structural string and the leaf next to it in document order (a key and
        its value, a value and the next key, a key and the key nested under it), or the leaf after the next key
        (``{"name": "4111 1111", "content": "1111 1111"}``): ``{"4111 1111": "1111 1111"}`` is a card. The
        texts' own joins are ``split_findings`` over the texts; here each such pair is scanned.
        A piece in the key or structural string is returned for it (refused if the plan masks the type); a piece
        in a text or number is added to that value's findings (masked there)."""
        out: list[tuple[Leaf, list[Finding]]] = []
        # A structural string and the value after the key that follows it (a message's ``name`` and its
        # ``content``) are read one after the other too: the key between them is the template's, not text.
        over_a_key = [(a, c) for a, b, c in zip(leaves, leaves[1:], leaves[2:], strict=False) if b.kind == "key"]
        for first, second in [*pairwise(leaves), *over_a_key]:
            kinds = {first.kind, second.kind}
            if not kinds & {"key", "structure"} or not kinds <= _READ_KINDS or not first.value or not second.value:
                continue
            pair = (first, second)
            for split in self._pair_splits(first, second):
                if self._whole_on_one_side(split, pair, findings):
                    continue
                for index, piece in split.pieces:
                    leaf = pair[index]
                    if leaf.kind in ("key", "structure"):
                        out.append((leaf, [piece]))
                    else:
                        findings[leaf.value] = _disjoint([*findings.get(leaf.value, ()), piece])
        return out

    def _pair_splits(self, first: Leaf, second: Leaf) -> list[SplitFinding]:
        """``split_findings`` of a pair, remembered when both are short keys or structural strings (``role`` then
        ``user``, ``user`` then ``content``: the same pairs recur in every message of every request)."""
        key = (first.value, second.value)
        cacheable = {first.kind, second.kind} <= {"key", "structure"} and len(key[0]) + len(key[1]) <= CACHED_CHARS
        cached = self._pair_findings.get(key) if cacheable else None
        if cached is not None:
            return cached
        found = split_findings(key, self.safe_scan)
        if cacheable:
            if len(self._pair_findings) >= CACHED_STRINGS:
                self._pair_findings.clear()
            self._pair_findings[key] = found
        return found

    def _whole_on_one_side(
        self, split: SplitFinding, pair: tuple[Leaf, Leaf], findings: dict[str, list[Finding]]
    ) -> bool:
        """Whether the value is already whole in one of the pair, and dealt with there: a key or structural
        string holding the type (refused there), or a text whose piece holds a whole finding of it (a token read
        on into the next word). Not a number: a number's findings may come from reading it after its key, which
        is the very split to catch."""
        for index, piece in split.pieces:
            leaf = pair[index]
            if leaf.kind in ("key", "structure"):
                if split.type in {f.type for f in self._identifiers(leaf.value)}:
                    return True
            elif leaf.kind == "text":
                own = findings.get(leaf.value, ())
                if any(f.type == split.type and piece.start <= f.start and f.end <= piece.end for f in own):
                    return True
        return False

    def _scan_number(self, digits: str, label: str) -> list[Finding]:
        """Findings in a number's digits (``extract.number_digits``), as one finding over all of them.

        The digits are read alone and after the key they sit under (``"ssn": 123456789`` is an SSN); a fraction's
        two words are read apart and run together too (``41111111111111.11`` holds a card's digits in a row). A
        number is masked whole or not at all: a number half masked would still spell the other half.
        """
        readings = {digits, digits.replace(" ", "")}
        prefix = SEPARATORS.sub(" ", label).strip() + " " if label else ""
        for reading in sorted(readings):
            for text in (reading, prefix + reading) if prefix else (reading,):
                shift = len(text) - len(reading)
                for f in self.safe_scan(text):
                    if f.end > shift:
                        return [Finding(0, len(digits), f.type, f.score, f.detector)]
        return []

    def _where(self, path: Path) -> str:
        """A path for messages: keys shown only when plainly a field name holding nothing (never a value)."""
        out = ""
        for part in path:
            if isinstance(part, int):
                out += f"[{part}]"
                continue
            shown = part if _FIELD_NAME.fullmatch(part) and not self._identifiers(part) else UNNAMED_KEY
            out += f".{shown}" if out else shown
        return out

    def _hold_words(self, plan: MaskPlan) -> bool:
        """Whether a plain word could be the start of a value this plan masks (or a placeholder to restore)."""
        if self._types is None or plan.restore:
            return True
        return any(plan.operator_for(t) is not None and t not in STRUCTURED_TYPES for t in self._types)


def _held(inspection: Inspection) -> _Held:
    if inspection.held is None:
        raise ValueError("only a request held for approval can be released or previewed")
    return inspection.held


def _found_at(walked: Walked, findings: Mapping[str, Sequence[Finding]]) -> list[tuple[Path, bool]]:
    """Where the body holds a value with findings (each with whether it is a key): the only leaves masking can
    change. The top-level ``model`` is not a leaf, but is rewritten like any string."""
    found = [(leaf.path, leaf.kind == "key") for leaf in walked.leaves if findings.get(leaf.value)]
    model = walked.body.get("model") if isinstance(walked.body, dict) else None
    if isinstance(model, str) and findings.get(model):
        found.append((("model",), False))
    return found


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
