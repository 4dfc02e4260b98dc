"""The policy file as an operator writes it, modelled with pydantic (``version: 1``, unknown keys refused).

Level names used anywhere in the file are checked against the file's own ``levels`` through the validation
context (``clearance.policy.load`` passes it), so a misspelt level is reported at its exact key path, together with
every other error. ``clearance.policy.compiled`` turns a valid file into the form that decides.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, model_validator

from clearance.endpoints import MODEL_ENDPOINTS
from clearance.entities import UNLISTED_OPERATOR, default_levels
from clearance.limits.config import RateSpec
from clearance.models import Action, OperatorName, ReasonFrom, RecordMode

Role = Literal["user", "approver", "auditor", "admin"]
ENDPOINT_NAMES = tuple(e.name for e in MODEL_ENDPOINTS)
GLOB_CHARS = frozenset("*?[")

_LEVEL_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")
_RULE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _level_name(value: str) -> str:
    if not _LEVEL_NAME.match(value):
        raise ValueError(f"level name {value!r} must be lower case letters, digits, '_' or '-' (e.g. 'internal')")
    return value


def _known_level(value: str, info: ValidationInfo) -> str:
    levels = (info.context or {}).get("levels")
    if levels is not None and value not in levels:
        raise ValueError(f"unknown level {value!r}: the levels of this policy are {', '.join(levels)}")
    return value


def _type_name(value: str) -> str:
    if not _TYPE_NAME.match(value):
        raise ValueError(f"entity type {value!r} must be upper case with '_' (e.g. CREDIT_CARD, EMPLOYEE_ID)")
    return value


def _endpoint(value: str) -> str:
    if GLOB_CHARS & set(value):
        if not fnmatch.filter(ENDPOINT_NAMES, value):
            raise ValueError(f"pattern {value!r} matches no endpoint (endpoints are {', '.join(ENDPOINT_NAMES)})")
    elif value not in ENDPOINT_NAMES:
        raise ValueError(f"unknown endpoint {value!r} (endpoints are {', '.join(ENDPOINT_NAMES)})")
    return value


def _duration(value: Any) -> Any:
    """``90``, ``"90s"``, ``"30m"``, ``"8h"``, ``"1d"`` -> seconds."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"duration {value!r} must be a number of seconds or like 30m, 8h, 1d")
        return float(match[1]) * _UNITS[match[2]]
    return value


LevelName = Annotated[str, AfterValidator(_level_name)]
LevelRef = Annotated[str, AfterValidator(_known_level)]
"""A level the file declares."""
EntityType = Annotated[str, AfterValidator(_type_name)]
EndpointName = Annotated[str, AfterValidator(_endpoint)]
Name = Annotated[str, Field(min_length=1)]
Seconds = Annotated[float, BeforeValidator(_duration), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LevelSpec(_Strict):
    """One level, and the entity types that belong to it. A bare name is a level with no types of its own."""

    name: LevelName
    types: tuple[EntityType, ...] = ()
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _bare_name(cls, data: Any) -> Any:
        return {"name": data} if isinstance(data, str) else data


def _default_levels() -> tuple[LevelSpec, ...]:
    """The default scale with each built-in type at its catalogue level (``clearance.entities``)."""
    return tuple(LevelSpec(name=name, types=types) for name, types in default_levels())


class MaskingDefaults(_Strict):
    operators: dict[EntityType, OperatorName] = {}
    """Per-type operators; they override the catalogue's (``partial`` for cards, ``redact`` for secrets, ...)."""
    default_operator: OperatorName = UNLISTED_OPERATOR
    """For a type with no operator of its own."""
    restore: bool = False
    """Whether callers see the originals of placeholders in answers (default decisions)."""


class ClearanceSpec(_Strict):
    """Who may send data up to ``level`` unmasked, and their roles. Matches any of its selectors."""

    groups: tuple[Name, ...] = ()
    users: tuple[Name, ...] = ()
    """Emails (compared without case) or subjects of signed-in people."""
    service_accounts: tuple[Name, ...] = ()
    """Subjects (owners) of API keys and client-credentials tokens."""
    anonymous: bool = False
    """Matches the anonymous caller (loopback only, when no authentication is configured)."""
    level: LevelRef
    roles: tuple[Role, ...] = ("user",)
    limits: RateSpec | None = None
    """The rate limits of each caller it selects, across models (``requests_per_minute``, ``tokens_per_minute``,
    ``concurrent_streams``): they replace the gateway file's ``limits.defaults`` (docs/limits.md, precedence)."""

    @model_validator(mode="after")
    def _selects_someone(self) -> ClearanceSpec:
        if not (self.groups or self.users or self.service_accounts or self.anonymous):
            raise ValueError("a clearance needs at least one of groups, users, service_accounts or anonymous: true")
        return self


class TargetSpec(_Strict):
    """A model (``name`` may be a glob such as ``llama-*``) or an upstream, with the highest level it may receive."""

    name: Name
    max_level: LevelRef
    description: str = ""


class RuleWhen(_Strict):
    """What a rule matches. Every condition given must hold; a list matches if any of its entries does.

    ``groups``, ``users``, ``service_accounts`` and ``anonymous`` together select the caller (any of them); a rule
    that names no one applies to every caller with a clearance.
    """

    groups: tuple[Name, ...] = ()
    users: tuple[Name, ...] = ()
    service_accounts: tuple[Name, ...] = ()
    anonymous: bool = False
    models: tuple[Name, ...] = ()
    upstreams: tuple[Name, ...] = ()
    endpoints: tuple[EndpointName, ...] = ()
    min_level: LevelRef | None = None
    """The request's level (detected, or declared if higher) is at least this."""
    max_level: LevelRef | None = None
    declared: tuple[LevelRef, ...] = ()
    """The caller declared one of these labels."""
    label_mismatch: bool | None = None
    """True: detection found more than the declared label; False: it did not (or nothing was declared)."""
    types: tuple[EntityType, ...] = ()
    """Any of these types was found in the request."""

    @model_validator(mode="after")
    def _ordered_bounds(self, info: ValidationInfo) -> RuleWhen:
        levels = (info.context or {}).get("levels") or ()
        low, high = self.min_level, self.max_level
        if low in levels and high in levels and levels.index(low) > levels.index(high):
            raise ValueError(f"min_level {low!r} is above max_level {high!r}")
        return self


class MaskSpec(_Strict):
    operators: dict[EntityType, OperatorName] = {}
    """Types to mask and how. Data above the caller's clearance or the model's level is masked as well, with the
    policy's operators."""
    restore: bool = False
    """Whether the caller sees the originals of placeholders in the answer."""


class EscalateSpec(_Strict):
    """When nobody has decided ``after`` the request was made, ``to`` (groups) are told and may decide too."""

    to: Annotated[tuple[Name, ...], Field(min_length=1)]
    after: Seconds
    """Seconds, or 15m, 1h, ...; counted from the request."""


class BreakGlassSpec(_Strict):
    """Members of ``groups`` may grant their own request at once, stating why (``X-Clearance-Break-Glass``); every
    approver is told, and the approval is flagged for review until someone acknowledges it."""

    groups: Annotated[tuple[Name, ...], Field(min_length=1)]


class ApprovalSpec(_Strict):
    approvers: Annotated[tuple[Name, ...], Field(min_length=1)]
    """Groups whose members may approve."""
    approvals: Annotated[int, Field(ge=1)] = 1
    grant_for: Seconds = 3600.0
    """How long an approval lasts: seconds, or 30m, 8h, 1d."""
    reason: ReasonFrom = "none"
    """Who must state a reason: none, requester (``X-Clearance-Reason``), approver (to approve or deny), both."""
    escalate: EscalateSpec | None = None
    break_glass: BreakGlassSpec | None = None
    """Off unless given."""

    @model_validator(mode="after")
    def _escalates_to_someone_new(self) -> ApprovalSpec:
        if self.escalate is not None and set(self.escalate.to) <= set(self.approvers):
            raise ValueError("escalate.to names only groups that approve already: name a second group to escalate to")
        return self


class RuleSpec(_Strict):
    id: str
    description: str = ""
    when: RuleWhen = RuleWhen()
    action: Action
    mask: MaskSpec | None = None
    """Only with ``action: mask``."""
    approval: ApprovalSpec | None = None
    """Required with ``action: require_approval``."""
    record: RecordMode | None = None
    """How the exchange is recorded; the policy's ``defaults.record`` if not given."""
    message: str | None = None
    """Only with ``block`` and ``require_approval``: what the caller is told to do next."""

    @model_validator(mode="after")
    def _fits_action(self) -> RuleSpec:
        problems = []
        if not _RULE_ID.match(self.id) or self.id == "default":
            problems.append("id must be letters, digits, '_', '.' or '-', and not 'default'")
        if self.mask is not None and self.action != "mask":
            problems.append("'mask' is only for action: mask")
        if (self.approval is None) == (self.action == "require_approval"):
            problems.append(
                "'approval' (approvers, approvals, grant_for, reason, escalate, break_glass) goes with "
                "action: require_approval only"
            )
        if self.message is not None and self.action not in ("block", "require_approval"):
            problems.append("'message' is only for block and require_approval")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Defaults(_Strict):
    """What applies when no rule matches, and to callers and models the policy does not name. Fail safe."""

    unknown_identity: Literal["deny", "allow"] = "deny"
    unknown_identity_level: LevelRef | None = None
    """The clearance of an unknown caller when they are allowed; the lowest level if not given."""
    unknown_model: Literal["deny", "allow"] = "deny"
    unknown_model_level: LevelRef | None = None
    """The level an unknown model may receive when it is allowed; the lowest level if not given."""
    label_mismatch: Literal["detected", "block"] = "detected"
    """When detection finds more than the caller declared: use the detected level, or refuse the request."""
    record: RecordMode = "metadata"


class PolicyFile(_Strict):
    version: Literal[1]
    description: str = ""
    levels: Annotated[tuple[LevelSpec, ...], Field(min_length=1)] = Field(default_factory=_default_levels)
    """Lowest first."""
    types: dict[EntityType, LevelRef] = {}
    """Put individual types at a level, overriding ``levels`` (handy for custom detectors)."""
    unlisted_type_level: LevelRef | None = None
    """The level of a type listed nowhere; the highest level if not given (fail safe)."""
    masking: MaskingDefaults = MaskingDefaults()
    clearances: tuple[ClearanceSpec, ...] = ()
    models: tuple[TargetSpec, ...] = ()
    upstreams: tuple[TargetSpec, ...] = ()
    rules: tuple[RuleSpec, ...] = ()
    defaults: Defaults = Defaults()

    @model_validator(mode="after")
    def _no_duplicates(self) -> PolicyFile:
        problems = []
        for what, names in (
            ("level", [lv.name for lv in self.levels]),
            ("rule id", [r.id for r in self.rules]),
            ("model", [m.name for m in self.models]),
            ("upstream", [u.name for u in self.upstreams]),
        ):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                problems.append(f"{what} {', '.join(map(repr, twice))} given more than once")
        placed: dict[str, str] = {}
        for level in self.levels:
            for entity_type in level.types:
                if entity_type in placed and placed[entity_type] != level.name:
                    problems.append(
                        f"type {entity_type} is in both levels {placed[entity_type]!r} and {level.name!r}: keep one"
                    )
                placed[entity_type] = level.name
        if problems:
            raise ValueError("; ".join(problems))
        return self
