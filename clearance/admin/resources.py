"""The admin API's bodies and responses, as pydantic models: the OpenAPI document is generated from these, and every
response is built through them, so what is documented is what is sent.

An approval resource shows what an approver needs to decide (who asks, for which model, under which rule and why,
the types found and how many, the masked preview, the requester's reason, who may decide and who did, every
transition) and never a raw value: the preview is the request as the policy's masking would send it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.approvals.lifecycle import lapsed
from clearance.approvals.model import MAX_REASON_CHARS, ApprovalRequest, ApprovalState, ReviewState
from clearance.models import ReasonFrom

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


class _Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RequesterResource(_Resource):
    subject: str
    kind: str = Field(description="user, service or anonymous")
    email: str | None
    groups: list[str]


class TransitionResource(_Resource):
    state: ApprovalState = Field(description="the state entered (a pending step is one approval of several)")
    actor: str = Field(description="the subject of whoever acted; system for an expiry")
    at: float = Field(description="seconds since the epoch")
    reason: str


class ApprovalResource(_Resource):
    """One approval request, as approvers and its requester see it."""

    object: Literal["approval"] = "approval"
    id: str
    state: ApprovalState = Field(description="expired as soon as its time is over, recorded or not")
    requester: RequesterResource
    model: str
    endpoint: str
    rule: str
    reasons: list[str]
    level: str = Field(description="the detected classification level of the request")
    counts: dict[str, int] = Field(description="findings per entity type")
    preview: str = Field(description="the request as masking would send it: never a raw value")
    requester_reason: str
    released_as: dict[str, str] = Field(
        description="per type found: how its values reach the model if approved, 'unmasked' or the masking "
        "operator still applied (redact, partial, hash, placeholder); empty for approvals asked before this was kept"
    )
    approvers: list[str] = Field(description="the groups whose members may decide")
    approvals_needed: int
    approvals_given: int
    approved_by: list[str]
    created_at: float
    expires_at: float = Field(description="pending: when it expires undecided; approved: when the grant ends")
    history: list[TransitionResource]
    reason_from: ReasonFrom = Field(description="who must give a reason: none, requester, approver or both")
    escalate_to: list[str] = Field(description="the groups told, and who may decide too, once it escalates")
    escalate_at: float | None = Field(description="when it escalates if still undecided (null: no escalation)")
    escalated_at: float | None = Field(description="when it escalated (null: not escalated)")
    break_glass: bool = Field(description="the requester granted themselves (break-glass)")
    review: ReviewState | None = Field(description="break-glass only: pending until someone acknowledges it")
    reviewed_by: str | None
    reviewed_at: float | None
    review_reason: str

    @classmethod
    def of(cls, approval: ApprovalRequest, *, now: float) -> ApprovalResource:
        requester = approval.requester
        return cls(
            id=approval.id,
            state="expired" if lapsed(approval, now) else approval.state,
            requester=RequesterResource(
                subject=requester.subject, kind=requester.kind, email=requester.email, groups=list(requester.groups)
            ),
            model=approval.model,
            endpoint=approval.endpoint,
            rule=approval.rule,
            reasons=list(approval.reasons),
            level=approval.level,
            counts=dict(approval.counts),
            preview=approval.preview,
            requester_reason=approval.requester_reason,
            released_as=dict(approval.released_as),
            approvers=list(approval.approvers),
            approvals_needed=approval.approvals_needed,
            approvals_given=len(approval.approved_by),
            approved_by=list(approval.approved_by),
            created_at=approval.created_at,
            expires_at=approval.expires_at,
            history=[
                TransitionResource(state=t.state, actor=t.actor, at=t.at, reason=t.reason) for t in approval.history
            ],
            reason_from=approval.reason_from,
            escalate_to=list(approval.escalate_to),
            escalate_at=approval.escalate_at,
            escalated_at=approval.escalated_at,
            break_glass=approval.break_glass,
            review=approval.review,
            reviewed_by=approval.reviewed_by,
            reviewed_at=approval.reviewed_at,
            review_reason=approval.review_reason,
        )


class ApprovalPage(_Resource):
    """A page of approvals, newest first. ``next_cursor`` fetches the next page; null on the last one."""

    object: Literal["list"] = "list"
    data: list[ApprovalResource]
    next_cursor: str | None


class DecisionBody(_Resource):
    """The body of an approval, a denial, a cancellation or an acknowledgement: why (optional unless the rule asks
    for it; required to acknowledge)."""

    reason: str = Field(default="", max_length=MAX_REASON_CHARS)


class ErrorDetail(BaseModel):
    """The OpenAI error format, as the data path answers; more machine-readable fields may follow."""

    model_config = ConfigDict(extra="allow")

    message: str
    type: str
    code: str
    param: str | None


class ErrorResponse(BaseModel):
    error: ErrorDetail
