"""Builds a scanner's parts from a ``DetectionConfig``: detectors, context rules, exclusions and levels.

Every problem found here is a ``ConfigError`` whose errors name the key path, like the loader's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from clearance.detect.base import Detector
from clearance.detect.builtin.connection_string import ConnectionStringDetector
from clearance.detect.builtin.phone import PhoneNumberDetector
from clearance.detect.config import CustomDetectorConfig, DetectionConfig
from clearance.detect.context import DEFAULT_CONTEXT_RULES, ContextRule
from clearance.detect.custom import KeywordDetector, RegexDetector
from clearance.detect.exclusions import Exclusion
from clearance.detect.ner import NerUnavailable, spacy_detector
from clearance.detect.registry import DetectorRegistry, builtin_registry
from clearance.exceptions import ConfigError
from clearance.levels import LevelScheme, classification_scheme


@dataclass(frozen=True)
class ScannerParts:
    detectors: tuple[Detector, ...]
    context_rules: tuple[ContextRule, ...]
    exclusions: tuple[Exclusion, ...]
    levels: LevelScheme
    min_score: float


def _custom_detector(custom: CustomDetectorConfig) -> Detector:
    if custom.regex is not None:
        return RegexDetector(custom.name, custom.type, custom.regex, score=custom.score)
    return KeywordDetector(
        custom.name,
        custom.type,
        custom.keywords,
        case_sensitive=custom.case_sensitive,
        score=custom.score,
    )


def _configured(detector: Detector, config: DetectionConfig) -> Detector:
    """``detector``, or the built-in one of its name built with the settings the configuration gives it."""
    if isinstance(detector, PhoneNumberDetector) and detector.regions != config.phone.regions:
        return PhoneNumberDetector(config.phone.regions)
    if isinstance(detector, ConnectionStringDetector) and config.connection_strings == "whole":
        # Reports whole strings as CONNECTION_STRING (a plug-in's detector of another class is left alone).
        return ConnectionStringDetector(whole_urls=True)
    return detector


def build_parts(
    config: DetectionConfig, registry: DetectorRegistry | None = None, policy_levels: LevelScheme | None = None
) -> ScannerParts:
    """``policy_levels`` is the policy's scheme (the default policy's without one); the levels the configuration
    declares are added to it by ``classification_scheme``, the one function that builds the scheme."""
    registry = registry or builtin_registry()
    detectors: list[Detector] = [
        _configured(detector, config) for detector in registry.create_all(exclude=config.disabled)
    ]
    rules = list(DEFAULT_CONTEXT_RULES)
    for custom in config.custom:
        detectors.append(_custom_detector(custom))
        if custom.context:
            rules.append(ContextRule(frozenset({custom.type}), custom.context, custom.context_boost))
    if config.ner.enabled:
        try:
            detectors.append(spacy_detector(config.ner.model, labels=config.ner.labels, score=config.ner.score))
        except NerUnavailable as exc:
            raise ConfigError(f"detection.ner: {exc}", [("detection.ner", str(exc))]) from None
    rules.extend(ContextRule(frozenset(r.types), r.words, r.boost, r.before, r.after) for r in config.context)
    exclusions = tuple(Exclusion.build(types=e.types, values=e.values, patterns=e.patterns) for e in config.exclusions)
    levels = classification_scheme(policy_levels or LevelScheme(), config.declared_levels())
    return ScannerParts(tuple(detectors), tuple(rules), exclusions, levels, config.min_score)
