"""The ``detection:`` section of the configuration file.

Example::

    detection:
      min_score: 0.5
      disabled: [us_bank]                 # built-in detector names
      custom:
        - name: project_codenames
          type: PROJECT_CODENAME
          keywords: [bluebird, nightjar]
          level: restricted
        - name: employee_id
          type: EMPLOYEE_ID
          regex: 'EMP-[0-9]{6}'
          context: [employee, staff]
          context_boost: 0.2
          score: 0.6
      context:
        - types: [PHONE_NUMBER]
          words: [hotline]
          boost: 0.2
      exclusions:
        - types: [CREDIT_CARD]
          values: ["4111 1111 1111 1111"]
        - patterns: ['.*@ourcompany\\.com']
      levels:
        types: {EMPLOYEE_ID: internal}   # for types the policy does not list (here, a custom one)
      ner:
        enabled: false
        model: en_core_web_sm
      connection_strings: password        # or whole: one CONNECTION_STRING per URL, as before
      phone:
        regions: [GB, DE, FR, ES, IT, NL, IN, AU, IE]   # where national numbers (a trunk 0, no +CC) are read

Every regular expression is checked with RE2 when the file is loaded; one it cannot compile is reported with its
key path (``detection.custom.1.regex``). Declared levels (``levels.types``, a custom detector's ``level``) are
checked against the policy's scale when the gateway or the CLI loads the policy (``clearance.levels``).
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from types import MappingProxyType
from typing import Annotated, Literal

from phonenumbers import SUPPORTED_REGIONS
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from clearance.detect.builtin.phone import DEFAULT_REGIONS
from clearance.detect.custom import compile_re2
from clearance.detect.registry import builtin_registry
from clearance.levels import DeclaredLevel, DeclaredLevels, DeclaredScale

TypeName = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]*$")]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
Boost = Annotated[float, Field(ge=-1.0, le=1.0)]
Window = Annotated[int, Field(ge=0, le=1000)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CustomDetectorConfig(_Strict):
    """A detector of your own: exactly one of ``regex`` (RE2) or ``keywords``."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    type: TypeName
    regex: str | None = None
    keywords: tuple[str, ...] = ()
    case_sensitive: bool = False
    """Keywords only; a regex says ``(?i)`` to ignore case."""
    score: Score = 0.8
    context: tuple[str, ...] = ()
    """Words that raise the score by ``context_boost`` when near a match."""
    context_boost: Boost = 0.2
    level: str | None = None
    """The level of ``type`` when the policy does not list it; a level of the policy's scale."""

    @field_validator("regex")
    @classmethod
    def _re2(cls, value: str | None) -> str | None:
        if value is not None:
            if not value:
                raise ValueError("the pattern is empty")
            compile_re2(value)
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> CustomDetectorConfig:
        if (self.regex is None) == (not self.keywords):
            raise ValueError("set exactly one of 'regex' (an RE2 pattern) or 'keywords' (a list)")
        if self.keywords and not any(k.strip() for k in self.keywords):
            raise ValueError("'keywords' holds only empty strings")
        return self


class ContextRuleConfig(_Strict):
    types: Annotated[tuple[TypeName, ...], Field(min_length=1)]
    words: Annotated[tuple[str, ...], Field(min_length=1)]
    boost: Boost
    before: Window = 48
    after: Window = 24


class ExclusionConfig(_Strict):
    """Suppress findings equal to one of ``values`` or fully matching one of ``patterns`` (RE2)."""

    types: tuple[TypeName, ...] = ()
    values: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()

    @field_validator("patterns")
    @classmethod
    def _re2(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for pattern in value:
            compile_re2(pattern)
        return value

    @model_validator(mode="after")
    def _something(self) -> ExclusionConfig:
        if not self.values and not self.patterns:
            raise ValueError("an exclusion needs 'values' or 'patterns'")
        return self


class LevelsConfig(_Strict):
    """Levels for types the policy does not list. The scale and the level of unlisted types are the policy's
    (``levels`` and ``unlisted_type_level`` of the policy file): ``order`` and ``default`` may only repeat them."""

    order: Annotated[tuple[str, ...], Field(min_length=1)] | None = None
    """Lowest first; if given, it must be the policy's scale."""
    types: dict[TypeName, str] = {}
    """The level of types the policy does not list (the policy's listing wins)."""
    default: str | None = None
    """If given, it must be the policy's level for unlisted types."""

    @model_validator(mode="after")
    def _distinct(self) -> LevelsConfig:
        if self.order is not None and len(set(self.order)) != len(self.order):
            raise ValueError("'order' lists a level twice")
        return self


class NerConfig(_Strict):
    """The optional PERSON detector (``pip install 'clearance[ner]'`` and a spaCy model)."""

    enabled: bool = False
    model: str = "en_core_web_sm"
    score: Score = 0.85
    labels: tuple[str, ...] = ("PERSON", "PER")


class PhoneConfig(_Strict):
    """How phone numbers are read."""

    regions: Annotated[tuple[str, ...], Field(min_length=1)] = DEFAULT_REGIONS
    """The regions (ISO 3166 alpha-2, as ``phonenumbers`` names them) whose national numbers, written with their
    trunk prefix and without ``+CC``, are recognised. North American numbers (US, CA) always are; numbers with
    ``+CC`` or ``00CC`` are read for every country whatever this says."""

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [region for region in value if region not in SUPPORTED_REGIONS]
        if unknown:
            hint = ", ".join(repr(r) for r in unknown)
            raise ValueError(
                f"unknown region(s) {hint}: use ISO 3166 alpha-2 codes in upper case that phonenumbers supports "
                "(GB, DE, BR, JP…)"
            )
        if len(set(value)) != len(value):
            raise ValueError("a region is listed twice")
        return value


class DetectionConfig(_Strict):
    min_score: Score = 0.5
    """Findings scoring under this (after context) are dropped."""
    disabled: tuple[str, ...] = ()
    """Names of built-in detectors to switch off."""
    custom: tuple[CustomDetectorConfig, ...] = ()
    context: tuple[ContextRuleConfig, ...] = ()
    exclusions: tuple[ExclusionConfig, ...] = ()
    levels: LevelsConfig = LevelsConfig()
    ner: NerConfig = NerConfig()
    connection_strings: Literal["password", "whole"] = "password"
    """How a connection string's credential is reported: ``password``, its password alone as ``PASSWORD`` (masking
    keeps the URL usable); ``whole``, the string up to its host as ``CONNECTION_STRING`` (the former report, for
    policies written against that type)."""
    phone: PhoneConfig = PhoneConfig()

    @property
    def version(self) -> str:
        """What detected a request, as a stable digest: this configuration and the gateway's version (its
        built-in detectors). Recorded with every exchange, so a replay knows whether it detects as then."""
        canonical = f"{package_version()}\n{self.model_dump_json()}"
        return hashlib.sha256(canonical.encode()).hexdigest()

    @field_validator("disabled")
    @classmethod
    def _known_detectors(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        known = builtin_registry().names()
        unknown = [name for name in value if name not in known]
        if unknown:
            raise ValueError(f"unknown detector(s) {', '.join(unknown)}; built-in detectors: {', '.join(known)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> DetectionConfig:
        builtin = set(builtin_registry().names())
        seen: set[str] = set()
        for custom in self.custom:
            if custom.name in builtin or custom.name in seen or custom.name == "ner":
                raise ValueError(f"detector name {custom.name!r} is already taken: choose another")
            seen.add(custom.name)
        # A type's level said in two places that disagree: one would silently lose (and a lower one leak).
        places: dict[str, dict[str, str]] = {}
        for i, custom in enumerate(self.custom):
            if custom.level is not None:
                places.setdefault(custom.type, {})[f"detection.custom.{i}.level"] = custom.level
        for type_, level in self.levels.types.items():
            places.setdefault(type_, {})[f"detection.levels.types.{type_}"] = level
        for type_, where in places.items():
            if len(set(where.values())) > 1:
                said = ", ".join(f"{key}: {level}" for key, level in where.items())
                raise ValueError(f"{type_} is declared at two levels ({said}): give it one")
        return self

    def declared_levels(self) -> DeclaredLevels:
        """The levels this section declares, with their key paths: custom detectors' ``level``, then
        ``levels.types`` (validation makes sure that places giving one type a level agree)."""
        types = {
            c.type: DeclaredLevel(c.level, f"detection.custom.{i}.level")
            for i, c in enumerate(self.custom)
            if c.level is not None
        }
        types.update({t: DeclaredLevel(level, f"detection.levels.types.{t}") for t, level in self.levels.types.items()})
        levels = self.levels
        return DeclaredLevels(
            types=MappingProxyType(types),
            order=DeclaredScale(levels.order, "detection.levels.order") if levels.order else None,
            default=DeclaredLevel(levels.default, "detection.levels.default") if levels.default else None,
        )


def package_version() -> str:
    """The installed gateway's version ("unknown" when it runs from a tree that was never installed)."""
    try:
        return metadata.version("clearance")
    except metadata.PackageNotFoundError:
        return "unknown"
