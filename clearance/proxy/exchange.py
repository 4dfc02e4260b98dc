"""The state of one request as it travels the pipeline: its id, who asked, and what each stage returned.

Stages hand the exchange what they found (an identity, a route, an inspection, the request as forwarded, the
answer, its status and usage, an error) as values; the audit record is built from them once, frozen, when the
exchange ends (``finish``). Text is kept only where the record mode keeps it (``full``, ``masked``), and only
redacted (``Recording.redact_document``): a record never holds a raw value. With ``audit.originals``, the request
as the caller sent it and the answer as the upstream returned it are sealed there too, where the mode keeps
originals (``clearance.audit.originals``): the plaintext lives only in memory until then.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from aiohttp import web

from clearance.audit.originals import Originals, Sealed, seal_originals
from clearance.enforce.inspector import Inspection
from clearance.exceptions import ClearanceError
from clearance.models import AuditRecord, Finding, Identity, Usage
from clearance.proxy.decisions import decision_headers
from clearance.proxy.errors import error_response
from clearance.proxy.json_codec import dumps
from clearance.proxy.transcript import Transcript

log = logging.getLogger("clearance.audit")

Scan = Callable[[str], Sequence[Finding]]
MAX_USER_AGENT: Final = 512
"""The most characters of a caller's ``User-Agent`` a record keeps (after redaction)."""
MAX_USER_AGENT_SCAN: Final = 2 * MAX_USER_AGENT
"""The longest ``User-Agent`` scanned for the record. It is scanned whole, before any authentication, so its length
is bounded; real ones are a few hundred characters."""
OVERLONG_USER_AGENT: Final = f"(user agent over {MAX_USER_AGENT_SCAN} characters: not kept)"
"""Recorded instead of a longer one: only part of it could be scanned, and a value cut at the end is not found."""
TEXT_MODES: Final = frozenset({"full", "masked"})
"""The record modes that keep the request's and the answer's text."""


def default_instance() -> str:
    """This gateway instance's name when ``server.instance_id`` is not set: ``host:pid``."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class Recording:
    """What every record of one gateway shares, and how it keeps text.

    ``redact``: a text with every finding redacted (``Inspector.redact``), for the user agent; ``redact_document``:
    the same for a JSON value (``Inspector.redact_document``), for the request and a stream's transcript;
    ``redact_answer``: for a whole answer (``Inspector.redact_answer``). Without them, none is recorded."""

    instance: str = field(default_factory=default_instance)
    detector_version: str | None = None
    max_text_bytes: int = 1024 * 1024
    redact: Callable[[str], str] | None = None
    redact_document: Callable[[Any], Any] | None = None
    redact_answer: Callable[[Any], Any] | None = None
    originals: Originals | None = None
    """Where originals are sealed (``audit.originals``) and for which record modes; None: never kept."""


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
    integer is not recorded. The Responses API names them ``input_tokens`` and ``output_tokens``."""
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens", usage.get("input_tokens"))
    completion = usage.get("completion_tokens", usage.get("output_tokens"))
    return Usage(
        prompt_tokens=_token_count(prompt),
        completion_tokens=_token_count(completion),
        total_tokens=_token_count(usage.get("total_tokens")),
    )


def ollama_usage(final: dict[str, Any]) -> Usage | None:
    """Token counts from an Ollama answer's last object (``prompt_eval_count``, ``eval_count``: an embedding has
    only the first), whole or the ``done`` line of a stream; None when it has neither."""
    prompt = _token_count(final.get("prompt_eval_count"))
    completion = _token_count(final.get("eval_count"))
    if prompt is None and completion is None:
        return None
    return Usage(prompt, completion, _token_count((prompt or 0) + (completion or 0)))


@dataclass(slots=True)
class _Outcome:
    """What the stages returned so far; private to the exchange, read once by ``finish``."""

    status: int = 0
    error_code: str | None = None
    bytes_in: int = 0
    bytes_out: int = 0
    model: str | None = None
    policy_model: str | None = None
    upstream: str | None = None
    stream: bool = False
    declared_label: str | None = None
    usage: Usage = field(default_factory=Usage)
    inspection: Inspection | None = None
    approval_id: str | None = None
    forwarded: dict[str, Any] | None = None
    body: bytes | None = None
    answer: dict[str, Any] | None = None
    transcript: Transcript | None = None
    first_byte_at: float | None = None


class Exchange:
    """One request and its answer. Each stage tells it what it returned; ``finish`` builds the record."""

    __slots__ = (
        "_client_addr",
        "_endpoint",
        "_method",
        "_outcome",
        "_recording",
        "_started_at",
        "_t0",
        "_user_agent",
        "headers",
        "headers_sent",
        "identity",
        "recorded",
        "request_id",
    )

    def __init__(
        self, request: web.Request, endpoint: str, scan: Scan | None = None, recording: Recording | None = None
    ) -> None:
        self._t0 = time.perf_counter()
        self._started_at = time.time()
        self._endpoint = endpoint
        self._method = request.method
        self._client_addr = request.remote
        self._outcome = _Outcome()
        self._recording = recording if recording is not None else Recording()
        self._user_agent = recordable_user_agent(request.headers.get("User-Agent"), self._recording.redact)
        self.request_id = request_id_for(request, scan)
        self.identity: Identity | None = None
        self.headers: dict[str, str] = {"X-Request-ID": self.request_id}
        """Sent with whatever response this request gets (the request id, the decision)."""
        self.headers_sent = False
        """Whether the caller already got a status line (a stream started): later failures keep that status."""
        self.recorded = False
        """Whether this exchange's record was built and handed to the audit store (``ModelPipeline.book``)."""

    @property
    def model(self) -> str | None:
        """The model name as it will be recorded (a routed name, ``UNKNOWN_MODEL``, or None before routing)."""
        return self._outcome.model

    def identify(self, identity: Identity) -> None:
        self.identity = identity

    def received(self, size: int) -> None:
        """The request body's size in bytes (declared, until it has been read)."""
        self._outcome.bytes_in = size

    def routed(
        self, model: str, upstream: str | None = None, *, stream: bool = False, public: str | None = None
    ) -> None:
        """The model asked for (``UNKNOWN_MODEL`` until a route matched), its upstream, whether it streams, and the
        route's own name for it, which the policy decides on (``model`` may be an alias)."""
        self._outcome.model = model
        self._outcome.policy_model = public
        self._outcome.upstream = upstream
        self._outcome.stream = stream

    def declared(self, label: str | None) -> None:
        """The declared classification as it may be recorded (``recordable_label``)."""
        self._outcome.declared_label = label

    def decide(self, inspection: Inspection) -> None:
        """What the enforcement stage returned: its decision goes into the headers and the record."""
        self._outcome.inspection = inspection
        self.headers.update(decision_headers(inspection.decision, inspection.masked))

    def released(self, inspection: Inspection) -> None:
        """A held request released under its grant (``Inspector.release``): the record carries what the release
        masked and where the findings sit in what is forwarded. The headers keep the decision as it was sent."""
        self._outcome.inspection = inspection

    def approval(self, approval_id: str) -> None:
        """The approval this request asked for, or whose grant it presented: an id the gateway issued."""
        self._outcome.approval_id = approval_id
        self.headers["X-Clearance-Approval"] = approval_id

    @property
    def keeps_text(self) -> bool:
        """Whether the decision's record mode keeps the request's and the answer's text."""
        inspection = self._outcome.inspection
        return (
            inspection is not None
            and inspection.decision.record in TEXT_MODES
            and self._recording.redact_document is not None
        )

    @property
    def keeps_originals(self) -> bool:
        """Whether the decision's record mode keeps the originals, sealed (``audit.originals``)."""
        inspection = self._outcome.inspection
        originals = self._recording.originals
        return inspection is not None and originals is not None and inspection.decision.record in originals.modes

    def body(self, raw: bytes) -> None:
        """The request body as the caller sent it (decoded): sealed at the end where the mode keeps originals,
        dropped otherwise. The reference is kept, never a copy, and never leaves the exchange unsealed."""
        if self._recording.originals is not None:
            self._outcome.body = raw

    def forwarded(self, body: dict[str, Any]) -> None:
        """The request as sent upstream (masked by the plan): recorded, redacted, where the mode keeps text."""
        if self.keeps_text:
            self._outcome.forwarded = body

    def answered(self, answer: dict[str, Any]) -> None:
        """A whole answer as the upstream sent it, before masking or restoring anything: recorded, redacted, where
        the mode keeps text (so an original restored for the caller is never recorded), or sealed where it keeps
        originals."""
        if self.keeps_text or self.keeps_originals:
            self._outcome.answer = answer

    def transcript(self) -> Transcript | None:
        """Where a stream's events are assembled for the record; None when the mode keeps no text nor originals."""
        if not (self.keeps_text or self.keeps_originals):
            return None
        if self._outcome.transcript is None:
            self._outcome.transcript = Transcript(self._recording.max_text_bytes)
        return self._outcome.transcript

    def first_byte(self) -> None:
        """The caller got the first bytes of a stream's answer (the time to first token)."""
        if self._outcome.first_byte_at is None:
            self._outcome.first_byte_at = time.perf_counter()

    @property
    def usage(self) -> Usage:
        """The token counts the upstream reported so far (``used``): what the rate limits charge."""
        return self._outcome.usage

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
        identity = self.identity
        request_text = response_text = None
        truncated = False
        if self.keeps_text:
            request_text, cut_request = self._text(facts.forwarded, self._recording.redact_document)
            if facts.answer is not None:
                response_text, cut_response = self._text(facts.answer, self._recording.redact_answer)
            elif facts.transcript is not None:
                response_text, cut_response = self._text(facts.transcript.document(), self._recording.redact_document)
                cut_response = cut_response or facts.transcript.truncated
            else:
                cut_response = False
            truncated = cut_request or cut_response
        sealed = self._seal() if self.keeps_originals else None
        facts.body = None  # sealed or not kept: the plaintext goes no further
        first = facts.first_byte_at
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
            instance=self._recording.instance,
            email=identity.email if identity is not None else None,
            groups=identity.groups if identity is not None else (),
            auth_method=identity.auth_method if identity is not None else None,
            key_id=identity.key_id if identity is not None else None,
            user_agent=self._user_agent,
            positions=inspection.positions if inspection is not None else (),
            request_text=request_text,
            response_text=response_text,
            truncated=truncated,
            ttft_ms=(first - self._t0) * 1000.0 if first is not None else None,
            policy_version=(decision.policy_version or None) if decision is not None else None,
            detector_version=self._recording.detector_version if inspection is not None else None,
            identity_kind=identity.kind if identity is not None else None,
            policy_model=facts.policy_model,
            originals=sealed.envelope if sealed is not None else None,
            originals_sha256=sealed.sha256 if sealed is not None else None,
        )

    def _seal(self) -> Sealed | None:
        """The originals, sealed: the body as received, and the answer (a stream's assembled) as returned. A
        failure means none is kept (the record is still written); it is logged by type, never with a value."""
        originals = self._recording.originals
        assert originals is not None
        facts = self._outcome
        answer: bytes | None = None
        try:
            if facts.answer is not None:
                answer = dumps(facts.answer)
            elif facts.transcript is not None:
                answer = dumps(facts.transcript.document())
            return seal_originals(
                facts.body,
                answer,
                record_id=self.request_id,
                keyring=originals.keyring,
                limit=self._recording.max_text_bytes,
            )
        except Exception as exc:
            log.error(
                "sealing the originals failed", extra={"request_id": self.request_id, "error": type(exc).__name__}
            )
            return None

    def _text(self, document: dict[str, Any] | None, redact: Callable[[Any], Any] | None) -> tuple[str | None, bool]:
        """``document`` as the record keeps it: every value redacted (``redact``), as JSON, cut at
        ``max_text_bytes`` (and whether it was). Redacted before it is cut, so a cut never leaves part of a value
        unfound. A detector that fails means no text is kept."""
        if document is None or redact is None:
            return None, False
        try:
            raw = dumps(redact(document))
        except Exception as exc:
            log.error("recording the text failed", extra={"request_id": self.request_id, "error": type(exc).__name__})
            return None, False
        limit = self._recording.max_text_bytes
        if len(raw) <= limit:
            return raw.decode(), False
        return raw[:limit].decode(errors="ignore"), True


def recordable_user_agent(value: str | None, redact: Callable[[str], str] | None) -> str | None:
    """A caller's ``User-Agent`` as a record may keep it: every finding redacted (the whole header, then cut to
    ``MAX_USER_AGENT`` characters, so no cut hides part of a value from the scan); ``OVERLONG_USER_AGENT`` for one
    too long to scan; None without a redactor or when it fails."""
    if not value or redact is None:
        return None
    if len(value) > MAX_USER_AGENT_SCAN:
        return OVERLONG_USER_AGENT
    try:
        return redact(value)[:MAX_USER_AGENT]
    except Exception:  # fail closed: a header we could not inspect is not kept
        return None


def _positive(counts: Mapping[str, int]) -> dict[str, int]:
    return {t: n for t, n in counts.items() if n > 0}
