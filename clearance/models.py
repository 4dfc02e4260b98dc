"""Plain values that travel through the pipeline. Frozen: a stage never mutates what an earlier stage produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

IdentityKind = Literal["user", "service", "anonymous"]
AuthMethod = Literal["oidc", "api_key", "anonymous"]
"""How a caller authenticated: an OIDC bearer token, a gateway API key, or not at all (loopback, no auth)."""
Action = Literal["allow", "mask", "require_approval", "block"]
OperatorName = Literal["redact", "partial", "hash", "placeholder"]
Release = OperatorName | Literal["unmasked"]
"""How a type's values reach the model: ``unmasked``, or masked by an operator."""
UNMASKED: Final = "unmasked"
RecordMode = Literal["full", "masked", "metadata"]
"""How an exchange is recorded: both sides in full, both sides as masked, or metadata only (no text)."""
ReasonFrom = Literal["none", "requester", "approver", "both"]
"""Who must state a reason for an approval: nobody, the requester (``X-Clearance-Reason``), each approver who
decides, or both."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking. ``groups`` are names (already mapped from IdP ids)."""

    subject: str
    kind: IdentityKind = "user"
    issuer: str | None = None
    email: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()
    key_id: str | None = None
    """The gateway API key the caller authenticated with (its public id, never the key), if any."""

    @classmethod
    def anonymous(cls) -> Identity:
        return cls(subject="anonymous", kind="anonymous")

    @property
    def auth_method(self) -> AuthMethod:
        """How the caller authenticated: an API key when it holds a key id, nothing when anonymous, else OIDC."""
        if self.kind == "anonymous":
            return "anonymous"
        return "api_key" if self.key_id is not None else "oidc"


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    """One piece of sensitive data found in a text.

    ``start``/``end`` index the Python ``str`` that was scanned (end exclusive). A finding never holds the value
    itself, so it is safe to log, record and return to callers.
    """

    start: int
    end: int
    type: str
    score: float = 1.0
    detector: str = ""


@dataclass(frozen=True, slots=True)
class FindingPosition:
    """Where a finding sits in the forwarded request: the JSON path of its leaf (``clearance.payload.extract``
    names paths; a key that is not a plain field name shows as ``<key>``) and its span in that leaf's text as
    forwarded (end exclusive). Never the value."""

    type: str
    path: tuple[str | int, ...]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """What the gateway records about one request, whatever its outcome (docs/audit.md). Never a raw value: the
    only payload text it holds is the request as forwarded and the answer as returned, every value found in them
    redacted, and only when the record mode keeps text (``full``, ``masked``).

    Built once, when the exchange ends (``clearance.proxy.exchange.Exchange.finish``), from what each stage
    returned."""

    request_id: str
    started_at: float
    endpoint: str
    method: str
    status: int = 0
    model: str | None = None
    upstream: str | None = None
    latency_ms: float = 0.0
    bytes_in: int = 0
    bytes_out: int = 0
    stream: bool = False
    usage: Usage = field(default_factory=Usage)
    error_code: str | None = None
    subject: str | None = None
    client_addr: str | None = None
    decision: str | None = None
    rule: str | None = None
    reasons: tuple[str, ...] = ()
    level: str | None = None
    declared_label: str | None = None
    findings: Mapping[str, int] = field(default_factory=dict)
    """Findings per entity type in the request (counts, never values)."""
    masked_request: Mapping[str, int] = field(default_factory=dict)
    """Values masked in the request, per entity type."""
    masked_response: Mapping[str, int] = field(default_factory=dict)
    """Values masked in the answer (or in an upstream's error body), per entity type."""
    record_mode: str | None = None
    """What the policy asked to keep of the exchange (``full``, ``masked``, ``metadata``)."""
    approval_id: str | None = None
    """The approval this request asked for, or whose grant it presented (only an id the gateway issued)."""
    instance: str | None = None
    """The gateway instance that handled the exchange (``server.instance_id``, else host:pid)."""
    email: str | None = None
    groups: tuple[str, ...] = ()
    auth_method: AuthMethod | None = None
    """How the caller authenticated (None when authentication failed)."""
    key_id: str | None = None
    """The API key the caller authenticated with (its public id)."""
    user_agent: str | None = None
    """The caller's ``User-Agent``, every value found in it redacted, cut to 512 characters (a marker for one too
    long to scan: ``clearance.proxy.exchange.recordable_user_agent``)."""
    positions: tuple[FindingPosition, ...] = ()
    """Where the findings sit in the forwarded request (in the request as received when none was forwarded)."""
    request_text: str | None = None
    """The request as forwarded upstream (JSON), values redacted; None in ``metadata`` mode or when none was sent."""
    response_text: str | None = None
    """The answer as returned (JSON; a stream's assembled text), before any restoration, values redacted."""
    truncated: bool = False
    """Whether ``request_text`` or ``response_text`` was cut at ``audit.max_text_bytes``."""
    ttft_ms: float | None = None
    """For a stream: milliseconds from the request's arrival to the first bytes of its answer."""
    policy_version: str | None = None
    """The digest of the policy version that decided."""
    detector_version: str | None = None
    """The digest of the detection configuration and the gateway version that inspected the request."""
    identity_kind: IdentityKind | None = None
    """The caller's kind (user, service, anonymous): a policy input, for ``clearance policy replay``."""
    policy_model: str | None = None
    """The route's name for the model, the one the policy decided on (``model`` is the name asked, maybe an alias)."""
    originals: bytes | None = None
    """The request as sent and the answer as returned, sealed (an ``audit.originals`` envelope: ciphertext only),
    where the record mode keeps originals; stored apart from the row (``audit_originals``)."""
    originals_sha256: str | None = None
    """The SHA-256 of ``originals`` (hex): what the row, and so the record's leaf, keeps of them."""


@dataclass(frozen=True, slots=True)
class MaskPlan:
    """The part of a decision that says what to mask and how. Types not listed pass unchanged."""

    operators: Mapping[str, OperatorName] = field(default_factory=dict)
    restore: bool = False
    """Whether placeholders in the answer are replaced by the originals for this caller."""
    otherwise: OperatorName | None = None
    """The operator for a type that is neither in ``operators`` nor in ``named``: a type the policy does not know
    (say, a custom detector added later), which is masked to fail safe, in answers too."""
    named: frozenset[str] = frozenset()
    """The types the policy knows; ``otherwise`` never applies to them."""

    def operator_for(self, entity_type: str) -> OperatorName | None:
        op = self.operators.get(entity_type)
        if op is None and self.otherwise is not None and entity_type not in self.named:
            return self.otherwise
        return op

    @property
    def active(self) -> bool:
        return bool(self.operators) or self.otherwise is not None


@dataclass(frozen=True, slots=True)
class ApprovalRequirement:
    """What a ``require_approval`` decision asks for: ``approvals`` members of ``approvers`` (group names) must
    approve, and the grant then lasts ``grant_seconds``. ``reason_from`` says who must give a reason; when nobody
    has decided ``escalate_after`` seconds after the request, ``escalate_to`` (groups) are told and may decide too;
    members of ``break_glass_groups`` may grant their own request at once, with a reason (none by default)."""

    approvers: tuple[str, ...]
    approvals: int = 1
    grant_seconds: float = 3600.0
    reason_from: ReasonFrom = "none"
    escalate_to: tuple[str, ...] = ()
    escalate_after: float | None = None
    break_glass_groups: tuple[str, ...] = ()

    @property
    def requester_reason_required(self) -> bool:
        return self.reason_from in ("requester", "both")


@dataclass(frozen=True, slots=True)
class Decision:
    """What the policy decided for one request, and why. A value: it does nothing by itself.

    ``rule`` is the id of the rule that matched, or ``default`` when none did; ``reasons`` are stable codes
    (``restricted_type``, ``clearance_exceeded``, ``label_mismatch``, …) for logs, headers, audit and errors.
    ``counts`` are findings per entity type in the request (never values).
    """

    action: Action
    rule: str
    reasons: tuple[str, ...]
    level: str
    plan: MaskPlan = field(default_factory=MaskPlan)
    counts: Mapping[str, int] = field(default_factory=dict)
    message: str = ""
    """For ``block`` and ``require_approval``: what the caller can do next."""
    record: RecordMode = "metadata"
    """How the exchange is recorded in the audit trail."""
    approval: ApprovalRequirement | None = None
    """For ``require_approval``: who must approve, how many, for how long."""
    policy_version: str = ""
    """The digest of the policy version that decided (recorded with the exchange; an approval is bound to it)."""


@dataclass(frozen=True, slots=True)
class DecisionInput:
    """Everything a policy decides on. Counts and levels only: the policy never sees payload text."""

    identity: Identity
    model: str
    upstream: str
    endpoint: str
    counts: Mapping[str, int]
    """Findings per entity type in the request."""
    level: str
    """The highest classification level among the findings (the lowest level when there are none)."""
    declared: str | None = None
    """The label the caller declared (``X-Data-Classification``), if any."""
