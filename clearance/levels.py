"""The classification scheme: an ordered scale, a level for every entity type, and a text's classification.

There is one scheme, and the policy owns its scale. ``classification_scheme(policy, declared)`` builds it, and the
gateway, ``clearance scan``/``classify``, ``clearance policy test`` and the Python API all use what it builds. The
level of a type is, in this order:

1. the level the policy lists it at (``levels:`` or ``types:`` of the policy file);
2. else the level the detection configuration declares for it (``detection.levels.types``, a custom detector's
   ``level:``), which must be a level of the policy's scale;
3. else the policy's level for unlisted types (``unlisted_type_level``, the highest by default: fail safe).

A declared level never silently loses: one that is not on the policy's scale, that differs from the level the
policy lists its type at, or that puts a built-in type (``clearance.entities``) the policy does not list below the
policy's level for unlisted types (only the policy may lower a built-in type), is a configuration error, and so
are a declared scale or unlisted level that are not the policy's. Either place may say a type's level; when both
do, they must agree.

Without a policy file the default policy applies: the default scale ``public < internal < confidential <
restricted`` with each built-in type at its catalogue level (``clearance.entities``) and every other type
restricted; ``LevelScheme()`` is that scheme. A text's level is the highest level among its findings, or the
lowest level of the scale when nothing was found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from clearance.entities import CATALOGUE, DEFAULT_SCALE, DEFAULT_TYPE_LEVELS
from clearance.exceptions import ConfigError
from clearance.models import Finding


@dataclass(frozen=True, eq=False)
class LevelScheme:
    """An ordered scale of levels (lowest first), the level of each listed entity type, and the level of every
    other type (``default``; the highest level when not given)."""

    order: tuple[str, ...] = DEFAULT_SCALE
    type_levels: Mapping[str, str] = field(default_factory=lambda: DEFAULT_TYPE_LEVELS)
    default: str | None = None
    _rank: Mapping[str, int] = field(init=False, repr=False)
    _default: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.order or len(set(self.order)) != len(self.order):
            raise ValueError("levels must be a non-empty list of distinct names, lowest first")
        rank = {level: i for i, level in enumerate(self.order)}
        default = self.order[-1] if self.default is None else self.default
        unknown = sorted({default, *self.type_levels.values()} - rank.keys())
        if unknown:
            raise ValueError(f"unknown level(s) {', '.join(unknown)}: levels are {', '.join(self.order)}")
        object.__setattr__(self, "type_levels", MappingProxyType(dict(self.type_levels)))
        object.__setattr__(self, "_rank", MappingProxyType(rank))
        object.__setattr__(self, "_default", default)

    @property
    def lowest(self) -> str:
        return self.order[0]

    @property
    def unlisted(self) -> str:
        """The level of a type the scheme does not list."""
        return self._default

    def rank(self, level: str) -> int:
        """The position of ``level`` on the scale (0 is the lowest). Raises ``KeyError`` for unknown levels."""
        return self._rank[level]

    def level_of(self, type_: str) -> str:
        return self.type_levels.get(type_, self._default)

    def highest(self, findings: Iterable[Finding]) -> str:
        best = 0
        for f in findings:
            best = max(best, self._rank[self.level_of(f.type)])
        return self.order[best]

    def with_types(self, overrides: Mapping[str, str]) -> LevelScheme:
        """A scheme with some types' levels changed."""
        return LevelScheme(self.order, {**self.type_levels, **overrides}, self._default)


@dataclass(frozen=True, slots=True)
class DeclaredLevel:
    """A level the detection configuration declares, and the key path that declares it (for error messages)."""

    value: str
    key: str


@dataclass(frozen=True, slots=True)
class DeclaredScale:
    """A scale the detection configuration declares (lowest first), and the key path that declares it."""

    value: tuple[str, ...]
    key: str


@dataclass(frozen=True, slots=True)
class DeclaredLevels:
    """What the detection configuration says about levels: a level per type, and maybe the scale and the level of
    unlisted types it expects (which must then be the policy's own)."""

    types: Mapping[str, DeclaredLevel] = field(default_factory=lambda: MappingProxyType({}))
    order: DeclaredScale | None = None
    default: DeclaredLevel | None = None


NO_DECLARED_LEVELS = DeclaredLevels()


def classification_scheme(policy: LevelScheme, declared: DeclaredLevels = NO_DECLARED_LEVELS) -> LevelScheme:
    """The one scheme: ``policy`` (its scale, its listed types, its level for unlisted types), with the types it
    does not list put at the levels ``declared``. What is declared may add to the policy but never contradict it:
    raises ``ConfigError`` listing, each at its key path, every declared level that is not on the policy's scale,
    differs from the level the policy lists the type at, or puts a built-in type the policy does not list below its
    unlisted level, and a declared scale or unlisted level not the policy's."""
    scale = ", ".join(policy.order)
    errors: list[tuple[str, str]] = []
    if declared.order is not None and declared.order.value != policy.order:
        errors.append(
            (
                declared.order.key,
                f"the scale of levels is the policy's ({scale}): remove this key, or change the policy's 'levels'",
            )
        )
    if declared.default is not None and declared.default.value != policy.unlisted:
        errors.append(
            (
                declared.default.key,
                f"the level of unlisted types is the policy's ({policy.unlisted}): remove this key, or set "
                "'unlisted_type_level' in the policy",
            )
        )
    for type_, level in declared.types.items():
        listed = policy.type_levels.get(type_)
        if level.value not in policy.order:
            hint = f"use one of {scale}, or add it to the policy's 'levels'"
            errors.append((level.key, f"level {level.value!r} is not on the policy's scale: {hint}"))
        elif listed is not None and listed != level.value:
            hint = (
                f"remove this key, or put {type_} at {level.value!r} in the policy (types: {{{type_}: {level.value}}})"
            )
            errors.append((level.key, f"the policy puts {type_} at {listed!r}, and the policy decides: {hint}"))
        elif listed is None and type_ in CATALOGUE and policy.rank(level.value) < policy.rank(policy.unlisted):
            # A built-in type the policy leaves out is at its unlisted level (the highest unless set): only the
            # policy may put a card or a secret lower, never the detection configuration.
            hint = (
                f"remove this key, or put {type_} at {level.value!r} in the policy (types: {{{type_}: {level.value}}})"
            )
            errors.append(
                (
                    level.key,
                    f"{type_} is a built-in type: {level.value!r} is below {policy.unlisted!r}, the policy's "
                    f"level for it: {hint}",
                )
            )
    if errors:
        raise ConfigError(f"{len(errors)} declared level(s) disagree with the policy", errors)
    added = {t: d.value for t, d in declared.types.items() if t not in policy.type_levels}
    if not added:
        return policy
    return LevelScheme(policy.order, {**policy.type_levels, **added}, policy.unlisted)


@dataclass(frozen=True, slots=True)
class Classification:
    """The level of a text and the findings that set it. Holds no text."""

    level: str
    findings: tuple[Finding, ...] = ()

    @property
    def counts(self) -> dict[str, int]:
        """Findings per entity type, most frequent first, then by name."""
        counter = Counter(f.type for f in self.findings)
        return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
