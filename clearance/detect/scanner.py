"""The scanner: the detection pipeline for one text.

::

    text ─▶ normalise ─▶ trigger pass (RE2 Set) ─▶ triggered detectors ─▶ context scores ─▶ min_score
         ─▶ exclusions ─▶ overlap resolution ─▶ offsets back to the original text ─▶ findings
                             └─▶ decoded views (entities, escapes, base64…) ─▶ the same pipeline ──┘

Overlap resolution prefers the more sensitive finding (by level), so a card used as an e-mail local part is
reported as the card, and a token found by decoding wins over the e-mail look-alike around it.

A ``Scanner`` is immutable once built and keeps no per-call state, so one instance serves every request on
every thread.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import replace

from mypy_extensions import mypyc_attr

from clearance.detect.base import Detector, Document
from clearance.detect.config import DetectionConfig
from clearance.detect.context import DEFAULT_CONTEXT_RULES, ContextRule, ContextScorer
from clearance.detect.decoded import MAX_DEPTH, TAGS, decoded_views, decoder_triggers, has_tag_run
from clearance.detect.exclusions import Exclusion, ExclusionSet
from clearance.detect.factory import build_parts
from clearance.detect.normalize import Normalizer, OffsetMap
from clearance.detect.overlap import resolve_overlaps
from clearance.detect.prefilter import TriggerSet
from clearance.detect.registry import DetectorRegistry, builtin_registry
from clearance.levels import Classification, LevelScheme
from clearance.models import Finding

_GENERIC_CREDENTIALS = frozenset({"API_KEY", "PASSWORD"})


# Compiled with mypyc; applications may still subclass it (to wrap ``scan``, say).
@mypyc_attr(allow_interpreted_subclasses=True)
class Scanner:
    """Finds sensitive data in texts with a fixed set of detectors and rules.

    ``Scanner()`` uses every built-in detector with the default context rules and the default policy's levels;
    ``Scanner.from_config(config, levels=policy.scheme)`` builds one from a ``DetectionConfig`` (or a whole
    ``GatewayConfig``) with a policy's levels (the default policy's without ``levels``) and the levels the
    configuration declares (``clearance.levels.classification_scheme``).
    """

    def __init__(
        self,
        detectors: Sequence[Detector] | None = None,
        *,
        context_rules: Iterable[ContextRule] | None = None,
        exclusions: Iterable[Exclusion] = (),
        levels: LevelScheme | None = None,
        min_score: float = 0.5,
    ) -> None:
        if detectors is None:
            detectors = builtin_registry().create_all()
        names = [d.name for d in detectors]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"detector names must be unique; repeated: {', '.join(duplicates)}")
        if not 0.0 <= min_score <= 1.0:
            raise ValueError("min_score must be between 0 and 1")
        self._detectors = tuple(detectors)
        self._normalizer = Normalizer()
        # The decoders' triggers share the detectors' single pass: text with nothing encoded pays nothing more.
        decoders = decoder_triggers()
        self._triggers = TriggerSet((*self._detectors, *decoders))
        # Looked up by identity: an isinstance test against the (ABC) detector classes costs more per text.
        self._decoder_families: dict[Detector, str] = {d: d.family for d in decoders}
        self._context_rules = tuple(DEFAULT_CONTEXT_RULES if context_rules is None else context_rules)
        self._context = ContextScorer(self._context_rules)
        self._exclusion_list = tuple(exclusions)
        self._exclusions = ExclusionSet(self._exclusion_list)
        self._levels = levels or LevelScheme()
        self._min_score = min_score

    @classmethod
    def from_config(
        cls,
        config: object | None = None,
        *,
        registry: DetectorRegistry | None = None,
        levels: LevelScheme | None = None,
    ) -> Scanner:
        """Build from a ``DetectionConfig``, a ``GatewayConfig`` (its ``detection`` section) or None (defaults).
        ``levels`` is the policy's scheme (``Policy.scheme``); without it, the default policy's.

        Raises ``ConfigError`` when the configuration asks for something that cannot be loaded (the NER
        plug-in without spaCy) or declares a level that is not on the policy's scale.
        """
        detection = getattr(config, "detection", config)
        if detection is None:
            detection = DetectionConfig()
        if not isinstance(detection, DetectionConfig):
            raise TypeError("expected a DetectionConfig, a GatewayConfig or None")
        parts = build_parts(detection, registry, levels)
        return cls(
            parts.detectors,
            context_rules=parts.context_rules,
            exclusions=parts.exclusions,
            levels=parts.levels,
            min_score=parts.min_score,
        )

    @property
    def detectors(self) -> tuple[Detector, ...]:
        return self._detectors

    @property
    def levels(self) -> LevelScheme:
        return self._levels

    @property
    def min_score(self) -> float:
        return self._min_score

    def with_min_score(self, min_score: float) -> Scanner:
        """The same scanner with another threshold."""
        return Scanner(
            self._detectors,
            context_rules=self._context_rules,
            exclusions=self._exclusion_list,
            levels=self._levels,
            min_score=min_score,
        )

    def scan(self, text: str) -> list[Finding]:
        """Findings in ``text``, disjoint and sorted by position; offsets index ``text`` itself.

        What ``text`` holds in encoded form (see ``decoded.py``) is found too, with the span of its encoded form.
        """
        if not isinstance(text, str):
            raise TypeError(f"scan() takes a str, not {type(text).__name__}")
        return self._scan(text, 0)

    def _scan(self, text: str, depth: int) -> list[Finding]:
        if not text:
            return []
        normalized, offsets = self._normalizer.normalize(text)
        doc = Document(text, normalized, offsets)
        candidates: list[Finding] = []
        families: list[str] = []
        decoder_families = self._decoder_families
        for detector in self._triggers.select(normalized):
            family = decoder_families.get(detector)
            if family is None:
                candidates.extend(detector.find(doc))
            else:
                families.append(family)
        # Tag characters spell ASCII invisibly; normalisation removed them from the text the triggers and views
        # read, so they get a view of the original text (in its coordinates), looked for only when it removed some.
        smuggled = self._smuggled(text, depth) if not offsets.identity and has_tag_run(text) else []
        if smuggled:
            return resolve_overlaps(
                [*self._mapped(self._found(doc, candidates, families, depth), offsets), *smuggled], self._levels
            )
        if not candidates and not families:
            return []
        return self._mapped(self._found(doc, candidates, families, depth), offsets)

    def _found(self, doc: Document, candidates: list[Finding], families: list[str], depth: int) -> list[Finding]:
        """The findings of ``doc`` (normalised coordinates): candidates scored, filtered, resolved; decoded views."""
        scored = [f for f in self._context.apply(doc, candidates) if f.score >= self._min_score]
        filtered = self._exclusions.filter(doc, scored) if self._exclusions else scored
        kept = resolve_overlaps(filtered, self._levels)
        decoded = self._decoded(doc, families, depth, kept) if families and depth < MAX_DEPTH else []
        if decoded:
            kept = resolve_overlaps([*kept, *decoded], self._levels)
        return kept

    @staticmethod
    def _mapped(kept: list[Finding], offsets: OffsetMap) -> list[Finding]:
        """``kept`` (normalised coordinates) in the original text's coordinates."""
        if not kept or offsets.identity:
            return kept
        out: list[Finding] = []
        for f in kept:
            start, end = offsets.span(f.start, f.end)
            out.append(replace(f, start=start, end=end))
        return out

    def _smuggled(self, text: str, depth: int) -> list[Finding]:
        """Findings of what the tag characters of ``text`` spell, spanning them, in ``text``'s coordinates."""
        if depth >= MAX_DEPTH:
            return []
        found: list[Finding] = []
        for view in decoded_views(text, (TAGS,)):
            for f in self._scan(view.text, depth + 1):
                span = view.source_span(f.start, f.end)
                if span is not None:
                    found.append(replace(f, start=span[0], end=span[1]))
        return found

    def _decoded(self, doc: Document, families: list[str], depth: int, kept: list[Finding]) -> list[Finding]:
        """Findings of the decoded views of ``doc.text``, in its coordinates, spanning the encoded form.

        They went through context scoring, the threshold and exclusions in their view (on the decoded value).
        Base64 runs wholly inside a kept finding of the highest level (a JWT, a key block, a token) are not
        decoded: that finding already covers them with the strictest treatment (but for ``API_KEY`` and
        ``PASSWORD``, see below)."""
        top = self._levels.order[-1]
        # A generic credential (a value judged by its shape after a key word) does not cover: what it decodes to may
        # name it more precisely (an AWS key id, a GitHub token), and that finding, more certain, wins the overlap.
        levels = self._levels
        covered = [
            (f.start, f.end) for f in kept if levels.level_of(f.type) == top and f.type not in _GENERIC_CREDENTIALS
        ]  # sorted, disjoint
        found: list[Finding] = []
        for view in decoded_views(doc.text, families, covered):
            for f in self._scan(view.text, depth + 1):
                span = view.source_span(f.start, f.end)
                if span is not None:
                    found.append(replace(f, start=span[0], end=span[1]))
        return found

    def classify(self, text: str) -> Classification:
        findings = self.scan(text)
        return Classification(self._levels.highest(findings), tuple(findings))


@functools.cache
def default_scanner() -> Scanner:
    """The scanner behind ``clearance.scan`` and ``clearance.classify``: built once, on first use, immutable."""
    return Scanner()


def scan(text: str) -> list[Finding]:
    """Find sensitive data in ``text`` with the built-in detectors and default rules."""
    return default_scanner().scan(text)


def classify(text: str) -> Classification:
    """The classification level of ``text`` (the highest level found) and its findings."""
    return default_scanner().classify(text)
