"""The policy resources of the admin API, as pydantic models (the OpenAPI document is generated from them): the live
policy summarised, its versions, a diff of two, and a request tried under the live policy and a draft.

Nothing here holds the text a caller tried: a trial shows the text as it would be sent (masked), never as typed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.audit.policy_versions import PolicyVersion
from clearance.models import Decision
from clearance.policy.compiled import Policy
from clearance.policy.replay import ReplayReport

MAX_TRIAL_TEXT_CHARS = 64 * 1024
"""The longest text a trial takes (a prompt; the gateway's own requests may be larger)."""
MAX_DRAFT_CHARS = 256 * 1024
"""The longest draft policy a trial takes."""


class _Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LevelRow(_Resource):
    name: str
    types: list[str] = Field(description="the entity types the policy puts at this level")
    description: str


class ClearanceRow(_Resource):
    groups: list[str]
    users: list[str]
    service_accounts: list[str]
    anonymous: bool
    level: str = Field(description="data up to this level passes unmasked")
    roles: list[str] = Field(description="user, approver, auditor, admin")


class CeilingRow(_Resource):
    kind: Literal["model", "upstream"]
    name: str = Field(description="a model's name may be a glob (llama-*)")
    max_level: str


class RuleRow(_Resource):
    position: int = Field(description="1 for the first rule: the first that matches decides")
    id: str
    description: str
    when: dict[str, Any] = Field(description="the conditions given (every one must hold); empty: any request")
    action: str
    record: str = Field(description="how a matching exchange is recorded")
    message: str


class PolicyResource(_Resource):
    """The policy in force on this gateway instance, summarised."""

    object: Literal["policy"] = "policy"
    digest: str = Field(description="sha256 of the policy's text: what audit records name as policy_version")
    source: str = Field(description="the file's path, or (built-in default)")
    loaded_at: float = Field(description="when this instance loaded it, seconds since the epoch")
    description: str
    levels: list[LevelRow] = Field(description="lowest first")
    unlisted_type_level: str = Field(description="the level of an entity type no level lists")
    clearances: list[ClearanceRow]
    ceilings: list[CeilingRow] = Field(description="the highest level each model and upstream may receive")
    rules: list[RuleRow] = Field(description="in order: the first that matches decides")
    defaults: dict[str, str | None] = Field(
        description="what applies when no rule matches, to unknown callers and models"
    )
    text: str = Field(description="the policy file's text (the built-in default's: its canonical YAML)")

    @classmethod
    def of(cls, policy: Policy, source: str, loaded_at: float) -> PolicyResource:
        file = policy.source
        return cls(
            digest=policy.digest,
            source=source,
            loaded_at=loaded_at,
            description=file.description,
            levels=[LevelRow(name=lv.name, types=list(lv.types), description=lv.description) for lv in file.levels],
            unlisted_type_level=file.unlisted_type_level or file.levels[-1].name,
            clearances=[
                ClearanceRow(
                    groups=list(c.groups),
                    users=list(c.users),
                    service_accounts=list(c.service_accounts),
                    anonymous=c.anonymous,
                    level=c.level,
                    roles=list(c.roles),
                )
                for c in file.clearances
            ],
            ceilings=[CeilingRow(kind="model", name=m.name, max_level=m.max_level) for m in file.models]
            + [CeilingRow(kind="upstream", name=u.name, max_level=u.max_level) for u in file.upstreams],
            rules=[
                RuleRow(
                    position=i,
                    id=r.id,
                    description=r.description,
                    when=r.when.model_dump(mode="json", exclude_defaults=True),
                    action=r.action,
                    record=r.record or file.defaults.record,
                    message=r.message or "",
                )
                for i, r in enumerate(file.rules, 1)
            ],
            defaults=file.defaults.model_dump(mode="json"),
            text=policy.text,
        )


class PolicyVersionResource(_Resource):
    object: Literal["policy_version"] = "policy_version"
    digest: str
    source: str = Field(description="the file's path when last loaded, or (built-in default)")
    first_loaded_at: float = Field(description="seconds since the epoch, by any instance")
    last_loaded_at: float
    instance: str = Field(description="the gateway instance that loaded it last")
    live: bool = Field(description="the version in force on the instance answering")
    text: str | None = Field(description="the policy file's text; null in a list")

    @classmethod
    def of(cls, version: PolicyVersion, live_digest: str) -> PolicyVersionResource:
        return cls(
            digest=version.digest,
            source=version.source,
            first_loaded_at=version.first_loaded_at,
            last_loaded_at=version.last_loaded_at,
            instance=version.instance,
            live=version.digest == live_digest,
            text=version.text,
        )


class PolicyVersionPage(_Resource):
    """Versions, the most recently introduced first. ``next_cursor`` fetches the next page; null on the last one."""

    object: Literal["list"] = "list"
    data: list[PolicyVersionResource]
    next_cursor: str | None


class DiffLine(_Resource):
    kind: Literal["header", "hunk", "context", "added", "removed"]
    text: str = Field(description="the line without its diff marker")


class PolicyDiffResource(_Resource):
    object: Literal["policy_diff"] = "policy_diff"
    from_digest: str
    to_digest: str
    diff: str = Field(description="a unified diff of the two texts; empty when they are the same")
    lines: list[DiffLine] = Field(description="the same diff, a line each, marked")


class TrialIdentity(_Resource):
    """The caller to try as: a user, a service account, or neither (anonymous)."""

    user: str | None = Field(default=None, max_length=320, description="an email or a subject")
    service_account: str | None = Field(default=None, max_length=256)
    groups: list[str] = Field(default_factory=list, max_length=100)
    email: str | None = Field(default=None, max_length=320)


class PolicyTestBody(_Resource):
    identity: TrialIdentity = TrialIdentity()
    model: str = Field(min_length=1, max_length=256)
    text: str = Field(max_length=MAX_TRIAL_TEXT_CHARS, description="tried, never recorded nor logged")
    endpoint: str = Field(default="chat.completions", description="the endpoint, e.g. chat.completions, embeddings")
    label: str | None = Field(default=None, max_length=64, description="a declared classification")
    draft: str | None = Field(
        default=None, max_length=MAX_DRAFT_CHARS, description="a policy file's YAML to try beside the live one"
    )


class TrialDecision(_Resource):
    policy_digest: str
    action: str = Field(description="allow, mask, require_approval or block")
    rule: str = Field(description="the id of the rule that decided (default: none matched)")
    reasons: list[str]
    level: str
    types: dict[str, int] = Field(description="findings per entity type")
    message: str
    sent: str | None = Field(description="the text as the model would receive it (masked); null: not forwarded")

    @classmethod
    def of(cls, decision: Decision, sent: str | None) -> TrialDecision:
        return cls(
            policy_digest=decision.policy_version,
            action=decision.action,
            rule=decision.rule,
            reasons=list(decision.reasons),
            level=decision.level,
            types=dict(sorted(decision.counts.items())),
            message=decision.message,
            sent=sent,
        )


class WhatIfChange(_Resource):
    count: int
    from_action: str
    from_rule: str
    to_action: str
    to_rule: str
    examples: list[int] = Field(description="a few record ids")


class WhatIf(_Resource):
    """The newest recorded decisions evaluated again under the draft."""

    window: int = Field(description="the most records read: the newest this many")
    read: int = Field(description="records read (fewer than window when the trail is shorter)")
    decided: int = Field(description="records that hold a decision, all evaluated again")
    changed: int = Field(description="decisions that would change under the draft")
    changes: list[WhatIfChange]

    @classmethod
    def of(cls, report: ReplayReport, window: int) -> WhatIf:
        return cls(
            window=window,
            read=report.decided + report.undecided,
            decided=report.decided,
            changed=report.changed,
            changes=[
                WhatIfChange(
                    count=c.count,
                    from_action=c.before[0],
                    from_rule=c.before[1],
                    to_action=c.after[0],
                    to_rule=c.after[1],
                    examples=list(c.examples),
                )
                for c in report.changes
            ],
        )


class PolicyTestResult(_Resource):
    object: Literal["policy_test"] = "policy_test"
    live: TrialDecision
    draft: TrialDecision | None = Field(description="null when no draft was given")
    what_if: WhatIf | None = Field(description="null when no draft was given")
