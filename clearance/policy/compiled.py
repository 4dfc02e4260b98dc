"""A policy compiled for deciding: every lookup a decision needs is a dict or set lookup, every mask plan is built
in advance. ``compile_policy`` turns a validated ``PolicyFile`` into a ``Policy``; a ``Policy`` never changes (a
reload builds a new one), so a decision never sees a half-loaded policy.
"""

from __future__ import annotations

import fnmatch
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import yaml

from clearance.entities import DEFAULT_OPERATORS
from clearance.levels import NO_DECLARED_LEVELS, DeclaredLevels, LevelScheme, classification_scheme
from clearance.limits.config import RateSpec
from clearance.models import ApprovalRequirement, DecisionInput, Identity, MaskPlan, OperatorName, RecordMode
from clearance.policy.schema import (
    GLOB_CHARS,
    ApprovalSpec,
    ClearanceSpec,
    Defaults,
    PolicyFile,
    RuleSpec,
    RuleWhen,
)


@dataclass(frozen=True, slots=True)
class Names:
    """A set of names, some of which may be globs (``llama-*``)."""

    exact: frozenset[str]
    pattern: re.Pattern[str] | None

    @classmethod
    def of(cls, names: Iterable[str]) -> Names:
        names = tuple(names)
        globs = [fnmatch.translate(n) for n in names if GLOB_CHARS & set(n)]
        pattern = re.compile("|".join(f"(?:{g})" for g in globs)) if globs else None
        return cls(frozenset(n for n in names if not GLOB_CHARS & set(n)), pattern)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return name in self.exact or (self.pattern is not None and self.pattern.match(name) is not None)


@dataclass(frozen=True, slots=True)
class Grant:
    """What a clearance gives: data up to ``rank`` unmasked, and roles."""

    rank: int
    roles: frozenset[str]


def user_key(name: str) -> str:
    """How users are compared: e-mail addresses without case, subjects (opaque ids) exactly."""
    return name.lower() if "@" in name else name


@dataclass(frozen=True, slots=True)
class Callers:
    """Who a clearance or a rule selects."""

    groups: frozenset[str]
    users: frozenset[str]
    """E-mail addresses (lower case) and subjects, as ``user_key`` gives them."""
    services: frozenset[str]
    anonymous: bool

    @classmethod
    def of(cls, spec: ClearanceSpec | RuleWhen) -> Callers:
        return cls(
            frozenset(spec.groups),
            frozenset(map(user_key, spec.users)),
            frozenset(spec.service_accounts),
            spec.anonymous,
        )

    def names(self, identity: Identity) -> bool:
        """Whether it names the caller: by user (subject or e-mail) or service account, not by group."""
        if identity.kind == "service":
            return identity.subject in self.services
        if identity.kind == "anonymous":
            return False
        return user_key(identity.subject) in self.users or (
            identity.email is not None and user_key(identity.email) in self.users
        )

    @property
    def anyone(self) -> bool:
        return not (self.groups or self.users or self.services or self.anonymous)

    def select(self, identity: Identity) -> bool:
        if identity.kind == "anonymous":
            return self.anonymous
        return not self.groups.isdisjoint(identity.groups) or self.names(identity)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule, compiled. ``plans[limit]`` is the mask plan of a ``mask`` rule for a caller limited to ``limit``."""

    id: str
    action: str
    callers: Callers
    models: Names | None
    upstreams: frozenset[str] | None
    endpoints: Names | None
    min_rank: int
    max_rank: int
    declared: frozenset[str] | None
    label_mismatch: bool | None
    types: frozenset[str] | None
    plans: tuple[MaskPlan, ...]
    approval: ApprovalRequirement | None
    record: RecordMode
    message: str

    def matches(self, facts: DecisionInput, rank: int, mismatch: bool, present: Collection[str]) -> bool:
        return (
            self.min_rank <= rank <= self.max_rank
            and (self.callers.anyone or self.callers.select(facts.identity))
            and (self.models is None or facts.model in self.models)
            and (self.upstreams is None or facts.upstream in self.upstreams)
            and (self.endpoints is None or facts.endpoint in self.endpoints)
            and (self.declared is None or facts.declared in self.declared)
            and (self.label_mismatch is None or self.label_mismatch == mismatch)
            and (self.types is None or not self.types.isdisjoint(present))
        )


@dataclass(frozen=True, slots=True)
class Policy:
    """A compiled policy: the input of ``clearance.policy.evaluate``."""

    scheme: LevelScheme
    """The classification scheme: the policy's levels with the levels the detection configuration declares for
    types the policy does not list (``clearance.levels.classification_scheme``). ``type_rank`` and
    ``unlisted_rank`` are read from it."""
    levels: tuple[str, ...]
    rank: Mapping[str, int]
    type_rank: Mapping[str, int]
    unlisted_rank: int
    groups: Mapping[str, Grant]
    users: Mapping[str, Grant]
    services: Mapping[str, Grant]
    anonymous: Grant | None
    models: Mapping[str, int]
    """Models named exactly, and the level each may receive."""
    model_globs: tuple[tuple[Names, int], ...]
    """Models named by a glob, in file order: the first that matches counts."""
    upstreams: Mapping[str, int]
    rules: tuple[Rule, ...]
    defaults: Defaults
    unknown_identity_rank: int
    unknown_model_rank: int
    plans: tuple[MaskPlan, ...]
    """The default mask plan for a caller limited to each level (index = rank)."""
    source: PolicyFile
    digest: str
    """sha256 of ``text``, to say which version decided."""
    text: str
    """The file's text as loaded; for a policy compiled without one (the built-in default), its canonical YAML."""
    limits: tuple[tuple[Callers, RateSpec], ...] = ()
    """The clearances that set rate limits, in file order."""

    @property
    def top(self) -> int:
        return len(self.levels) - 1

    def type_level(self, entity_type: str) -> int:
        return self.type_rank.get(entity_type, self.unlisted_rank)

    def classify(self, counts: Mapping[str, int]) -> str:
        """The highest level among the types found (the lowest level when nothing was found)."""
        found = [self.type_rank.get(t, self.unlisted_rank) for t, n in counts.items() if n > 0]
        return self.levels[max(found, default=0)]

    def clearance(self, identity: Identity) -> Grant | None:
        """The caller's clearance (the highest among the clearances that select them), or None: unknown."""
        if identity.kind == "anonymous":
            return self.anonymous
        grants = [self.groups[g] for g in identity.groups if g in self.groups]
        if identity.kind == "service":
            keys: tuple[str, ...] = (identity.subject,)
            table = self.services
        else:
            keys = (user_key(identity.subject),) + ((user_key(identity.email),) if identity.email else ())
            table = self.users
        grants.extend(table[k] for k in keys if k in table)
        if not grants:
            return None
        if len(grants) == 1:
            return grants[0]
        return Grant(max(g.rank for g in grants), frozenset().union(*(g.roles for g in grants)))

    def limits_for(self, identity: Identity) -> RateSpec | None:
        """The caller's rate limits from the clearances that select them (None: none does). For each limit, the
        clearances naming the caller (user, service account) come before those selecting them by group (or as
        anonymous); among equals the most generous wins, as the highest level does for clearances."""
        named = [spec for callers, spec in self.limits if callers.names(identity)]
        grouped = [spec for callers, spec in self.limits if callers.select(identity) and not callers.names(identity)]
        if not named and not grouped:
            return None
        chosen: dict[str, int] = {}
        for name in RateSpec.model_fields:
            for specs in (named, grouped):
                values = [v for v in (getattr(spec, name) for spec in specs) if v is not None]
                if values:
                    chosen[name] = max(values)
                    break
        return RateSpec.model_validate(chosen)

    def roles(self, identity: Identity) -> frozenset[str]:
        """The caller's roles (``user``, ``approver``, ``auditor``, ``admin``); none for an unknown caller."""
        grant = self.clearance(identity)
        return grant.roles if grant is not None else frozenset()

    def ceiling(self, model: str, upstream: str) -> int | None:
        """The highest level the model may receive (the lower of its own and its upstream's), or None: unknown."""
        own = self.models.get(model)
        if own is None:
            own = next((rank for names, rank in self.model_globs if model in names), None)
        limits = [] if own is None else [own]
        if upstream in self.upstreams:
            limits.append(self.upstreams[upstream])
        return min(limits) if limits else None


@dataclass(frozen=True, slots=True)
class PlanMaker:
    """Builds mask plans from the policy's level map and operators."""

    type_rank: Mapping[str, int]
    operators: Mapping[str, OperatorName]
    default_operator: OperatorName
    unlisted_rank: int
    levels: int

    def plans(self, explicit: Mapping[str, OperatorName], restore: bool) -> tuple[MaskPlan, ...]:
        """One plan per limit (index = rank): every type above the limit masked with its operator (else the
        default one), plus the ``explicit`` operators whatever the level. A type the policy does not name is
        masked too when its level (``unlisted_type_level``) is above the limit: in answers as well as requests."""
        named = frozenset(self.type_rank) | frozenset(explicit)
        plans = []
        for limit in range(self.levels):
            chosen = {t: self.operators.get(t, self.default_operator) for t, r in self.type_rank.items() if r > limit}
            chosen.update(explicit)
            plans.append(
                MaskPlan(
                    operators=MappingProxyType(chosen),
                    restore=restore,
                    otherwise=self.default_operator if self.unlisted_rank > limit else None,
                    named=named,
                )
            )
        return tuple(plans)


def _merge(table: dict[str, Grant], key: str, grant: Grant) -> None:
    old = table.get(key)
    table[key] = grant if old is None else Grant(max(old.rank, grant.rank), old.roles | grant.roles)


def _grants(
    clearances: Iterable[ClearanceSpec], rank: Mapping[str, int]
) -> tuple[dict[str, Grant], dict[str, Grant], dict[str, Grant], Grant | None]:
    """Clearances indexed by group, user (``user_key``) and service account; and the anonymous caller's."""
    groups: dict[str, Grant] = {}
    users: dict[str, Grant] = {}
    services: dict[str, Grant] = {}
    anonymous: dict[str, Grant] = {}
    for spec in clearances:
        grant = Grant(rank[spec.level], frozenset(spec.roles))
        callers = Callers.of(spec)
        for table, keys in ((groups, callers.groups), (users, callers.users), (services, callers.services)):
            for key in keys:
                _merge(table, key, grant)
        if callers.anonymous:
            _merge(anonymous, "", grant)
    return groups, users, services, anonymous.get("")


def _requirement(spec: ApprovalSpec) -> ApprovalRequirement:
    escalate, glass = spec.escalate, spec.break_glass
    return ApprovalRequirement(
        approvers=spec.approvers,
        approvals=spec.approvals,
        grant_seconds=spec.grant_for,
        reason_from=spec.reason,
        escalate_to=escalate.to if escalate else (),
        escalate_after=escalate.after if escalate else None,
        break_glass_groups=glass.groups if glass else (),
    )


def _rule(
    spec: RuleSpec, rank: Mapping[str, int], maker: PlanMaker, default_plans: tuple[MaskPlan, ...], record: RecordMode
) -> Rule:
    when = spec.when
    return Rule(
        id=spec.id,
        action=spec.action,
        callers=Callers.of(when),
        models=Names.of(when.models) if when.models else None,
        upstreams=frozenset(when.upstreams) if when.upstreams else None,
        endpoints=Names.of(when.endpoints) if when.endpoints else None,
        min_rank=rank[when.min_level] if when.min_level else 0,
        max_rank=rank[when.max_level] if when.max_level else len(rank) - 1,
        declared=frozenset(when.declared) if when.declared else None,
        label_mismatch=when.label_mismatch,
        types=frozenset(when.types) if when.types else None,
        plans=maker.plans(spec.mask.operators, spec.mask.restore) if spec.mask else default_plans,
        approval=_requirement(spec.approval) if spec.approval else None,
        record=spec.record or record,
        message=spec.message or "",
    )


def file_scheme(file: PolicyFile) -> LevelScheme:
    """The levels of the file alone: its scale, the types it lists, its level for the others."""
    listed = {t: level.name for level in file.levels for t in level.types}
    listed.update(file.types)
    return LevelScheme(tuple(level.name for level in file.levels), listed, file.unlisted_type_level)


def compile_policy(file: PolicyFile, text: str | None = None, declared: DeclaredLevels = NO_DECLARED_LEVELS) -> Policy:
    """Build the deciding form of a validated file. ``text`` is the file's text, for the digest; ``declared`` the
    levels the detection configuration declares (``DetectionConfig.declared_levels()``), for types the file does
    not list. Raises ``ConfigError`` when a declared level is not on the file's scale."""
    scheme = classification_scheme(file_scheme(file), declared)
    levels = scheme.order
    rank = {name: i for i, name in enumerate(levels)}
    type_rank = {t: rank[level] for t, level in scheme.type_levels.items()}
    unlisted_rank = rank[scheme.unlisted]
    maker = PlanMaker(
        type_rank=type_rank,
        operators={**DEFAULT_OPERATORS, **file.masking.operators},
        default_operator=file.masking.default_operator,
        unlisted_rank=unlisted_rank,
        levels=len(levels),
    )
    plans = maker.plans({}, file.masking.restore)
    groups, users, services, anonymous = _grants(file.clearances, rank)
    if text is None:
        text = canonical_text(file)
    defaults = file.defaults
    return Policy(
        scheme=scheme,
        levels=levels,
        rank=MappingProxyType(rank),
        type_rank=MappingProxyType(type_rank),
        unlisted_rank=unlisted_rank,
        groups=MappingProxyType(groups),
        users=MappingProxyType(users),
        services=MappingProxyType(services),
        anonymous=anonymous,
        models=MappingProxyType({m.name: rank[m.max_level] for m in file.models if not GLOB_CHARS & set(m.name)}),
        model_globs=tuple((Names.of([m.name]), rank[m.max_level]) for m in file.models if GLOB_CHARS & set(m.name)),
        upstreams=MappingProxyType({u.name: rank[u.max_level] for u in file.upstreams}),
        rules=tuple(_rule(r, rank, maker, plans, defaults.record) for r in file.rules),
        defaults=defaults,
        unknown_identity_rank=rank[defaults.unknown_identity_level] if defaults.unknown_identity_level else 0,
        unknown_model_rank=rank[defaults.unknown_model_level] if defaults.unknown_model_level else 0,
        plans=plans,
        source=file,
        digest=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        limits=tuple((Callers.of(c), c.limits) for c in file.clearances if c.limits is not None),
    )


def canonical_text(file: PolicyFile) -> str:
    """A policy file that has no text of its own (the built-in default) written as YAML: what it sets, in the file's
    key order, so it reads like a policy file and its digest identifies it."""
    return yaml.safe_dump(file.model_dump(mode="json", exclude_defaults=True), sort_keys=False, allow_unicode=True)
