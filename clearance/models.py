"""Plain values that travel through the pipeline. Frozen: a stage never mutates what an earlier stage produced."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

IdentityKind = Literal["user", "service", "anonymous"]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is asking. ``groups`` are names (already mapped from IdP ids)."""

    subject: str
    kind: IdentityKind = "user"
    issuer: str | None = None
    email: str | None = None
    name: str | None = None
    groups: tuple[str, ...] = ()

    @classmethod
    def anonymous(cls) -> Identity:
        return cls(subject="anonymous", kind="anonymous")


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
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None


@dataclass(slots=True)
class AuditRecord:
    """What the gateway records about one request, whatever its outcome. Holds no payload text."""

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
