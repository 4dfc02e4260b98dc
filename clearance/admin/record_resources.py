"""The audit records' resources in the admin API, as pydantic models (the OpenAPI document is generated from these,
and ``clearance.admin.records`` answers through them): a summary per record for searches, the whole record for one;
and the figures of a window of records (``clearance.admin.stats``).
Never a raw value: a record holds none (``clearance.models.AuditRecord``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.admin.resources import ApprovalResource
from clearance.approvals.model import ApprovalRequest
from clearance.audit.stats import NONE, WindowStats
from clearance.audit.verify import RecordIntegrity, RecordIntegrityState

_PLAIN = (
    "method", "endpoint", "model", "upstream", "status", "latency_ms", "ttft_ms", "stream", "prompt_tokens",
    "completion_tokens", "total_tokens", "error_code", "subject", "identity_kind", "email", "auth_method", "key_id",
    "client_addr", "user_agent", "instance", "decision", "rule", "level", "declared_label", "record_mode",
    "policy_model", "approval_id", "policy_version", "detector_version",
)  # fmt: skip
"""The columns a summary shows as they are."""


class _Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PositionResource(_Resource):
    type: str
    path: list[str | int] = Field(description="the JSON path of the leaf in the forwarded request")
    start: int
    end: int = Field(description="exclusive")


class RecordSummary(_Resource):
    """One exchange's record, as a search lists it: who, what, what was found and decided; never a value."""

    object: Literal["record"] = "record"
    id: int = Field(description="the record's id in the trail (what `clearance audit verify` reports)")
    request_id: str
    created_at: float = Field(description="seconds since the epoch")
    method: str
    endpoint: str
    model: str | None = Field(description="the model's name as asked (maybe an alias)")
    policy_model: str | None = Field(description="the route's name for it, which the policy decided on")
    upstream: str | None
    status: int
    latency_ms: float
    ttft_ms: float | None
    stream: bool
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None
    error_code: str | None
    subject: str | None
    identity_kind: str | None = Field(description="user, service or anonymous (null before it was recorded)")
    email: str | None
    groups: list[str]
    auth_method: str | None
    key_id: str | None
    client_addr: str | None
    user_agent: str | None
    instance: str | None
    decision: str | None
    rule: str | None
    reasons: list[str]
    level: str | None
    declared_label: str | None
    findings: dict[str, int] = Field(description="findings per entity type (counts, never values)")
    masked_request: dict[str, int]
    masked_response: dict[str, int]
    record_mode: str | None
    approval_id: str | None
    truncated: bool
    policy_version: str | None
    detector_version: str | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RecordSummary:
        """A row of ``audit_records``, its text left out."""
        return cls(**summary_fields(row))


class RecordResource(RecordSummary):
    """One record whole: its summary, where the findings sit, and the text its record mode kept (redacted)."""

    positions: list[PositionResource]
    request_text: str | None = Field(description="the request as forwarded (JSON), values redacted; null: not kept")
    response_text: str | None = Field(description="the answer as returned (JSON), values redacted; null: not kept")

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> RecordResource:
        """A row of ``audit_records``, whole."""
        return cls(
            **summary_fields(row),
            positions=[PositionResource(**p) for p in row["positions"] or ()],
            request_text=row["request_text"],
            response_text=row["response_text"],
        )


class GrantResource(_Resource):
    """The grant an approval gave: when it was approved, until when it was good, and when the request spent it."""

    granted_at: float = Field(description="when the approval was given (seconds since the epoch)")
    expires_at: float = Field(description="when the grant ends, spent or not")
    spent_at: float | None = Field(description="when the approved request used it (null: not yet)")

    @classmethod
    def of(cls, approval: ApprovalRequest) -> GrantResource | None:
        """The grant, where the approval was approved (and maybe used since); None otherwise."""
        granted = next((t.at for t in approval.history if t.state == "approved"), None)
        if granted is None:
            return None
        spent = next((t.at for t in approval.history if t.state == "used"), None)
        return cls(granted_at=granted, expires_at=approval.expires_at, spent_at=spent)


class IntegrityResource(_Resource):
    """Whether the record is proven by a signed checkpoint (``clearance.audit.verify.verify_record``)."""

    state: RecordIntegrityState = Field(
        description="verified (up to checkpoint), failed (detail says what), not_checkpointed (not yet covered), "
        "before_tree (written before the audit tree began) or off (audit.integrity has no key)"
    )
    detail: str
    checkpoint: int | None = Field(description="the size of the checkpoint it was checked against (the newest)")

    @classmethod
    def of(cls, integrity: RecordIntegrity) -> IntegrityResource:
        return cls(state=integrity.state, detail=integrity.detail, checkpoint=integrity.checkpoint)


class RecordStory(_Resource):
    """One exchange's story, linked: the approval request and each decision on it, the grant and when it was spent,
    the exchange's record, its leaf in the audit tree, the first checkpoint that covers it, and its integrity."""

    object: Literal["story"] = "story"
    record: RecordSummary
    approval: ApprovalResource | None = Field(description="the approval the request went through (null: none)")
    grant: GrantResource | None = Field(description="the grant the approval gave (null: none was given)")
    leaf_index: int | None = Field(description="the record's leaf in the audit tree (null: in none)")
    first_checkpoint: int | None = Field(description="the size of the first signed checkpoint that covers the leaf")
    integrity: IntegrityResource

    @classmethod
    def of(
        cls, row: Mapping[str, Any], approval: ApprovalRequest | None, integrity: RecordIntegrity, *, now: float
    ) -> RecordStory:
        return cls(
            record=RecordSummary.of(row),
            approval=None if approval is None else ApprovalResource.of(approval, now=now),
            grant=None if approval is None else GrantResource.of(approval),
            leaf_index=integrity.leaf_index,
            first_checkpoint=integrity.first_checkpoint,
            integrity=IntegrityResource.of(integrity),
        )


class RecordPage(_Resource):
    """A page of records, newest first. ``next_cursor`` fetches the next page; null on the last one."""

    object: Literal["list"] = "list"
    data: list[RecordSummary]
    next_cursor: str | None


def _seconds(value: datetime) -> float:
    """SQLite gives a time back without its zone: it was written in UTC."""
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).timestamp()


def summary_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of ``audit_records`` as the fields of ``RecordSummary``."""
    return {
        "id": row["id"],
        "request_id": row["request_id"],
        "created_at": _seconds(row["created_at"]),
        **{name: row[name] for name in _PLAIN},
        "groups": list(row["groups"] or ()),
        "reasons": list(row["reasons"] or ()),
        "findings": dict(row["findings"] or {}),
        "masked_request": dict(row["masked_request"] or {}),
        "masked_response": dict(row["masked_response"] or {}),
        "truncated": bool(row["truncated"]),
    }


MAX_TOP: Final = 50
"""The most types, models and users the figures of a window list."""


class NamedCount(_Resource):
    name: str | None = Field(description="null: none recorded (an anonymous caller, a request for no model)")
    requests: int


class TypeFound(_Resource):
    type: str = Field(description="the entity type (EMAIL_ADDRESS, GITHUB_TOKEN, …)")
    found: int = Field(description="findings of this type, every record together")
    requests: int = Field(description="records with at least one")


class BucketCounts(_Resource):
    start: float = Field(description="seconds since the epoch; the bucket ends where the next starts")
    requests: int
    decisions: dict[str, int] = Field(description="requests per decision (none: refused before one)")


class StatsResource(_Resource):
    """The audit trail's figures over ``[since, until)``."""

    object: Literal["stats"] = "stats"
    since: float = Field(description="seconds since the epoch")
    until: float = Field(description="seconds since the epoch (exclusive)")
    bucket: int = Field(description="seconds per bucket")
    requests: int = Field(description="records made in the window")
    decisions: dict[str, int] = Field(
        description="requests per decision: allow, mask, require_approval, block; none: refused before the policy "
        "decided (no credentials, an unknown route)"
    )
    types: list[TypeFound] = Field(description="the entity types found most, most first")
    models: list[NamedCount] = Field(description="the models asked for most, most first")
    users: list[NamedCount] = Field(description="the subjects asking most, most first")
    buckets: list[BucketCounts] = Field(description="every bucket of the window in order, empty ones included")
    first_record_at: float | None = Field(
        description="when the oldest record of the whole trail was made (null: nothing recorded yet)"
    )

    @classmethod
    def of(cls, figures: WindowStats, *, since: datetime, until: datetime, bucket: int) -> StatsResource:
        def named(pairs: tuple[tuple[str, int], ...]) -> list[NamedCount]:
            return [NamedCount(name=name if name != NONE else None, requests=n) for name, n in pairs]

        return cls(
            since=since.timestamp(),
            until=until.timestamp(),
            bucket=bucket,
            requests=figures.total,
            decisions=dict(figures.decisions),
            types=[TypeFound(type=t.type, found=t.found, requests=t.requests) for t in figures.types],
            models=named(figures.models),
            users=named(figures.users),
            buckets=[
                BucketCounts(start=b.start, requests=sum(b.decisions.values()), decisions=dict(b.decisions))
                for b in figures.buckets
            ],
            first_record_at=None if figures.first_record_at is None else figures.first_record_at.timestamp(),
        )
