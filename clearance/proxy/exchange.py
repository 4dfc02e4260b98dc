"""The state of one request as it travels the pipeline: its id, who asked, and what each stage returned.

Stages hand the exchange what they found (an identity, a route, an inspection, an answer's status and usage, an
error) as values; the audit record is built from them once, frozen, when the exchange ends (``finish``).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from clearance.enforce.inspector import Inspection
from clearance.exceptions import ClearanceError
from clearance.models import AuditRecord, Finding, Identity, Usage
from clearance.proxy.decisions import decision_headers
from clearance.proxy.errors import error_response

Scan = Callable[[str], Sequence[Finding]]

# The only request ids taken from a caller: shapes a generator makes, with no room for a value a person would
# recognise. A UUID (RFC 9562: version 1-8, its variant) or a ULID (Crockford base32, 48-bit time first).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
"""Nine digits in a row could be an SSN, or part of a card or account number: such an id is not taken."""

UNKNOWN_MODEL = "(unknown model)"
"""Recorded instead of a model name no route matched: the caller's text is never recorded raw."""
UNKNOWN_LABEL = "(unknown label)"
"""Recorded instead of a declared label that is not a level of the data policy."""


def request_id_for(request: web.Request, scan: Scan | None = None) -> str:
    """The caller's ``X-Request-ID`` if it is a UUID or a ULID that holds no finding, else a fresh UUID.

    Ids go to logs, audit rows and the upstream: one that could carry a value (an e-mail, a card, a token) is
    replaced rather than kept. ``scan`` is the gateway's detection engine, a second line behind the shape; a
    detector that fails means the id is replaced.
    """
    given = request.headers.get("X-Request-ID", "")
    candidate = given.lower()
    if not _UUID.fullmatch(candidate):
        candidate = given.upper()
        if not _ULID.fullmatch(candidate):
            return str(uuid.uuid4())
    if _DIGIT_RUN.search(candidate):
        return str(uuid.uuid4())
    if scan is not None:
        try:
            if scan(candidate):
                return str(uuid.uuid4())
        except Exception:  # fail closed: an id we could not inspect is not kept
            return str(uuid.uuid4())
    return candidate


def recordable_label(declared: str | None, known: Callable[[str], bool]) -> str | None:
    """The declared label as it may be recorded: a level of the policy, else a fixed marker, never raw text."""
    if declared is None:
        return None
    return declared if known(declared) else UNKNOWN_LABEL


MAX_TOKEN_COUNT = 10**8 - 1
"""The largest token count recorded: no request holds more, and a count of nine digits or more could be an SSN or
a card that an upstream put in its usage (the audit record never holds a raw value)."""


def _token_count(value: object) -> int | None:
    # the upstream writes these: a string, a float or an implausible integer is not recorded
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKEN_COUNT:
        return value
    return None


def usage_of(usage: object) -> Usage | None:
    """Token counts from an upstream's ``usage`` object (None if it is not one); a count that is not a plausible
    integer is not recorded."""
    if not isinstance(usage, dict):
        return None
    return Usage(
        prompt_tokens=_token_count(usage.get("prompt_tokens")),
        completion_tokens=_token_count(usage.get("completion_tokens")),
        total_tokens=_token_count(usage.get("total_tokens")),
    )


@dataclass(slots=True)
class _Outcome:
    """What the stages returned so far; private to the exchange, read once by ``finish``."""

    status: int = 0
    error_code: str | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    model: str | None = None
    upstream: str | None = None
    stream: bool = False
    declared_label: str | None = None
    usage: Usage = field(default_factory=Usage)
    inspection: Inspection | None = None
    approval_id: str | None = None


class Exchange:
    """One request and its answer. Each stage tells it what it returned; ``finish`` builds the record."""

    __slots__ = (
        "_client_addr",
        "_endpoint",
        "_method",
        "_outcome",
        "_started_at",
        "_t0",
        "headers",
        "headers_sent",
        "identity",
        "request_id",
    )

    def __init__(self, request: web.Request, endpoint: str, scan: Scan | None = None) -> None:
        self._t0 = time.perf_counter()
        self._started_at = time.time()
        self._endpoint = endpoint
        self._method = request.method
        self._client_addr = request.remote
        self._outcome = _Outcome()
        self.request_id = request_id_for(request, scan)
        self.identity: Identity | None = None
        self.headers: dict[str, str] = {"X-Request-ID": self.request_id}
        """Sent with whatever response this request gets (the request id, the decision)."""
        self.headers_sent = False
        """Whether the caller already got a status line (a stream started): later failures keep that status."""

    @property
    def model(self) -> str | None:
        """The model name as it will be recorded (a routed name, ``UNKNOWN_MODEL``, or None before routing)."""
        return self._outcome.model

    def identify(self, identity: Identity) -> None:
        self.identity = identity

    def received(self, size: int) -> None:
        """The request body's size in bytes (declared, until it has been read)."""
        self._outcome.bytes_in = size

    def routed(self, model: str, upstream: str | None = None, *, stream: bool = False) -> None:
        """The model asked for (``UNKNOWN_MODEL`` until a route matched), its upstream, and whether it streams."""
        self._outcome.model = model
        self._outcome.upstream = upstream
        self._outcome.stream = stream

    def declared(self, label: str | None) -> None:
        """The declared classification as it may be recorded (``recordable_label``)."""
        self._outcome.declared_label = label

    def decide(self, inspection: Inspection) -> None:
        """What the enforcement stage returned: its decision goes into the headers and the record."""
        self._outcome.inspection = inspection
        self.headers.update(decision_headers(inspection.decision, inspection.masked))

    def approval(self, approval_id: str) -> None:
        """The approval this request asked for, or whose grant it presented: an id the gateway issued."""
        self._outcome.approval_id = approval_id
        self.headers["X-Clearance-Approval"] = approval_id

    def used(self, usage: Usage | None) -> None:
        """Token counts the upstream reported (None: it reported none, or none readable)."""
        if usage is not None:
            self._outcome.usage = usage

    def started(self, status: int) -> None:
        """The caller got ``status`` and headers (a stream began): what is recorded from now on."""
        self.headers_sent = True
        self._outcome.status = status

    def sent(self, size: int) -> None:
        """The size in bytes of what the caller was sent (a stream's events)."""
        self._outcome.bytes_out = size

    def fail(self, error: ClearanceError) -> None:
        """Record ``error``; its status only if the caller gets it (not once a stream's headers went out)."""
        self._end(error.http_status, error.code)

    def disconnected(self) -> None:
        """The caller went away (or the request was cancelled) before its answer was complete."""
        self._outcome.status = 499
        self._outcome.error_code = "client_disconnected"

    def refuse(self, error: ClearanceError) -> web.Response:
        """The error response for this request (OpenAI shape, with the request id and any decision headers)."""
        self.fail(error)
        return self.respond(error_response(error))

    def respond(self, response: web.Response, error_code: str | None = None) -> web.Response:
        """Send ``response`` as this request's answer: its headers added, its status and size recorded, and
        ``error_code`` when it relays a failure."""
        response.headers.update(self.headers)
        self._end(response.status, error_code or self._outcome.error_code)
        self._outcome.bytes_out = len(response.body) if isinstance(response.body, bytes) else 0
        return response

    def _end(self, status: int, error_code: str | None) -> None:
        if not self.headers_sent:
            self._outcome.status = status
        self._outcome.error_code = error_code

    def finish(self) -> AuditRecord:
        """The audit record of this exchange, built from what the stages returned."""
        facts = self._outcome
        inspection = facts.inspection
        decision = inspection.decision if inspection is not None else None
        return AuditRecord(
            request_id=self.request_id,
            started_at=self._started_at,
            endpoint=self._endpoint,
            method=self._method,
            status=facts.status,
            model=facts.model,
            upstream=facts.upstream,
            latency_ms=(time.perf_counter() - self._t0) * 1000.0,
            bytes_in=facts.bytes_in,
            bytes_out=facts.bytes_out,
            stream=facts.stream,
            usage=facts.usage,
            error_code=facts.error_code,
            subject=self.identity.subject if self.identity is not None else None,
            client_addr=self._client_addr,
            decision=decision.action if decision is not None else None,
            rule=decision.rule if decision is not None else None,
            reasons=decision.reasons if decision is not None else (),
            level=decision.level if decision is not None else None,
            declared_label=facts.declared_label,
            findings=dict(decision.counts) if decision is not None else {},
            masked_request=dict(inspection.masked) if inspection is not None else {},
            masked_response=_positive(inspection.masker.answer_counts) if inspection is not None else {},
            record_mode=decision.record if decision is not None else None,
            approval_id=facts.approval_id,
        )


def _positive(counts: Mapping[str, int]) -> dict[str, int]:
    return {t: n for t, n in counts.items() if n > 0}
