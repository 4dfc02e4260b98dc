"""The state of one request as it travels the pipeline: its id, who asked, and what will be recorded."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence

from aiohttp import web

from clearance.enforce.inspector import Inspection
from clearance.exceptions import ClearanceError
from clearance.mask.masker import Masker
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


class Exchange:
    """One request and its answer. The pipeline fills in ``record`` as it learns things."""

    __slots__ = ("_t0", "headers", "headers_sent", "identity", "masker", "record", "request_id")

    def __init__(self, request: web.Request, endpoint: str, scan: Scan | None = None) -> None:
        self._t0 = time.perf_counter()
        self.request_id = request_id_for(request, scan)
        self.identity: Identity | None = None
        self.masker: Masker | None = None
        self.headers: dict[str, str] = {"X-Request-ID": self.request_id}
        """Sent with whatever response this request gets (the request id, the decision)."""
        self.headers_sent = False
        """Whether the caller already got a status line (a stream started): later failures keep that status."""
        self.record = AuditRecord(
            request_id=self.request_id,
            started_at=time.time(),
            endpoint=endpoint,
            method=request.method,
            client_addr=request.remote,
        )

    def identify(self, identity: Identity) -> None:
        self.identity = identity
        self.record.subject = identity.subject

    def decide(self, inspection: Inspection) -> None:
        decision = inspection.decision
        self.masker = inspection.masker
        self.record.decision = decision.action
        self.record.rule = decision.rule
        self.record.reasons = decision.reasons
        self.record.level = decision.level
        self.record.findings = dict(decision.counts)
        self.record.record_mode = decision.record
        self.record.masked_request = dict(inspection.masker.counts)
        self.headers.update(decision_headers(decision, inspection.masker.counts))

    def started(self, status: int) -> None:
        """The caller got ``status`` and headers (a stream began): what is recorded from now on."""
        self.headers_sent = True
        self.record.status = status

    def fail(self, error: ClearanceError) -> None:
        """Record ``error``; its status only if the caller gets it (not once a stream's headers went out)."""
        if not self.headers_sent:
            self.record.status = error.http_status
        self.record.error_code = error.code

    def refuse(self, error: ClearanceError) -> web.Response:
        """The error response for this request (OpenAI shape, with the request id and any decision headers)."""
        self.fail(error)
        return self.respond(error_response(error))

    def respond(self, response: web.Response) -> web.Response:
        """Send ``response`` as this request's answer: its headers added, its size recorded."""
        response.headers.update(self.headers)
        self.record.bytes_out = len(response.body) if isinstance(response.body, bytes) else 0
        return response

    def set_usage(self, usage: object) -> None:
        """Token counts from the upstream's answer; a count that is not a plausible integer is not recorded."""
        if isinstance(usage, dict):
            self.record.usage = Usage(
                prompt_tokens=_token_count(usage.get("prompt_tokens")),
                completion_tokens=_token_count(usage.get("completion_tokens")),
                total_tokens=_token_count(usage.get("total_tokens")),
            )

    def finish(self) -> AuditRecord:
        self.record.latency_ms = (time.perf_counter() - self._t0) * 1000.0
        if self.masker is not None:
            total = self.masker.counts
            self.record.masked_response = {
                t: n - self.record.masked_request.get(t, 0)
                for t, n in total.items()
                if n > self.record.masked_request.get(t, 0)
            }
        return self.record
