"""The state of one request as it travels the pipeline: its id, who asked, and what will be recorded."""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web

from clearance.exceptions import ClearanceError
from clearance.inspection import Inspection, decision_headers
from clearance.mask.masker import Masker
from clearance.models import AuditRecord, Identity, Usage
from clearance.proxy.errors import error_response

_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


def request_id_for(request: web.Request) -> str:
    """The caller's ``X-Request-ID`` if it is a sane token, else a fresh one."""
    given = request.headers.get("X-Request-ID")
    if given and _VALID_REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


class Exchange:
    """One request and its answer. The pipeline fills in ``record`` as it learns things."""

    __slots__ = ("_t0", "headers", "identity", "masker", "record", "request_id")

    def __init__(self, request: web.Request, endpoint: str) -> None:
        self._t0 = time.perf_counter()
        self.request_id = request_id_for(request)
        self.identity: Identity | None = None
        self.masker: Masker | None = None
        self.headers: dict[str, str] = {"X-Request-ID": self.request_id}
        """Sent with whatever response this request gets (the request id, the decision)."""
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

    def fail(self, error: ClearanceError) -> None:
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
        if isinstance(usage, dict):
            self.record.usage = Usage(
                prompt_tokens=usage.get("prompt_tokens"),
                completion_tokens=usage.get("completion_tokens"),
                total_tokens=usage.get("total_tokens"),
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
