"""Revealing a record's sealed originals (``audit.originals``) on the admin API, to the ``auditor`` role only:

- ``POST /admin/v1/records/{id}/reveal`` with ``{"reason": "..."}`` (required, at most 500 characters): the
  request as the caller sent it and the answer as the upstream returned it, decrypted. The reveal is recorded
  first (who, when, which record, the reason redacted as every reason is), then the originals are opened.
- ``GET /admin/v1/records/{id}/reveals``: every reveal of that record, oldest first.

``{id}`` is the record's number (``audit_records.id``). Anyone else gets 403 before anything about the record is
read; an anonymous caller 401. ``RevealApi``'s operations (``reveal``, ``reveals``) take the caller's ``Identity``
and check the role themselves; the console calls the same ones (a reason from its form). The decrypted text is in
the response body only (``Cache-Control: no-store``): never in a header, a log line, an error or a metric. Errors
are in the data path's OpenAI shape.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine

from clearance.admin.access import AUDITOR, Authenticate, signed_in
from clearance.admin.bodies import json_body, resource_response
from clearance.approvals.model import MAX_REASON_CHARS
from clearance.audit.originals import Originals, open_originals
from clearance.audit.reveals import Reveal, record_reveal, reveals_of, stored_originals
from clearance.exceptions import (
    ClearanceError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
)
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import error_response

log = logging.getLogger("clearance.audit")

PREFIX: Final = "/admin/v1/records"
MAX_REVEAL_BODY_BYTES: Final = 16 * 1024
"""The largest body a reveal may have (a reason is 500 characters)."""
REVEAL_BODY_TIMEOUT: Final = 30.0
_MAX_RECORD_ID: Final = 2**63 - 1

Redact = Callable[[str], str]


class _Resource(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RevealBody(_Resource):
    """Why the originals are revealed: required, recorded with the reveal (redacted)."""

    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS, pattern=r"\S")


class RevealResource(_Resource):
    """One reveal of a record's originals."""

    object: str = "reveal"
    id: int
    record_id: int
    revealed_at: float = Field(description="seconds since the epoch")
    subject: str = Field(description="who revealed them")
    email: str | None
    reason: str = Field(description="the stated reason, every value found in it redacted")

    @classmethod
    def of(cls, reveal: Reveal) -> RevealResource:
        return cls(
            id=reveal.id,
            record_id=reveal.record_id,
            revealed_at=reveal.revealed_at.timestamp(),
            subject=reveal.subject,
            email=reveal.email,
            reason=reveal.reason,
        )


class RevealPage(_Resource):
    """Every reveal of one record, oldest first."""

    object: str = "list"
    data: list[RevealResource]


class RevealedOriginals(_Resource):
    """A record's originals, decrypted: what the caller sent and what the upstream answered, before any masking."""

    object: str = "originals"
    record_id: int
    request_id: str
    kek_id: str = Field(description="the key-encryption key that sealed them")
    request: str | None = Field(description="the request body as the caller sent it (cut at audit.max_text_bytes)")
    answer: str | None = Field(
        description="the answer as the upstream returned it (JSON; a stream's assembled text), before masking or "
        "restoring; null when none came"
    )
    truncated: bool = Field(description="whether either side was cut at audit.max_text_bytes")
    reveal: RevealResource = Field(description="this reveal, as recorded")


def _record_id(text: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= _MAX_RECORD_ID:
        raise NotFound("there is no audit record with this id: the id is the record's number", code="record_not_found")
    return int(text)


async def _reveal_json(request: web.Request) -> Any:
    return await json_body(
        request, max_bytes=MAX_REVEAL_BODY_BYTES, timeout=REVEAL_BODY_TIMEOUT, example='{"reason": "..."}'
    )


def reveal_body(data: Any) -> RevealBody:
    """A reveal's body (``{"reason": "..."}``), checked: ``reason_required`` or ``reason_too_long`` (400)."""
    try:
        return RevealBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "string_too_long":
            raise InvalidRequest(
                f"the reason is too long; keep it to {MAX_REASON_CHARS} characters",
                code="reason_too_long",
                param="reason",
            ) from None
        raise InvalidRequest(
            'a reveal needs a reason: send {"reason": "..."} saying why (it is recorded with the reveal)',
            code="reason_required",
            param="reason",
        ) from None


@dataclass(frozen=True, slots=True)
class RevealApi:
    """The handlers, bound to the database, the keyring (None: ``audit.originals`` is off), the policy's roles, the
    authenticator and the redactor of reasons (``clearance.enforce.inspector.Inspector.redact``)."""

    engine: Engine
    originals: Originals | None
    policy: PolicyHolder
    authenticate: Authenticate
    redact: Redact

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_post(f"{PREFIX}/{{id}}/reveal", self._answering(self._reveal))
        router.add_get(f"{PREFIX}/{{id}}/reveals", self._answering(self._reveals))

    def _answering(
        self, handler: Callable[[web.Request, Identity], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                identity = await signed_in(self.authenticate, request)
                self.require_auditor(identity)  # before the body is read
                return await handler(request, identity)
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def _reveal(self, request: web.Request, identity: Identity) -> web.Response:
        record_id = request.match_info["id"]
        _record_id(record_id)
        return resource_response(await self.reveal(identity, record_id, await _reveal_json(request)), private=True)

    async def _reveals(self, request: web.Request, identity: Identity) -> web.Response:
        return resource_response(await self.reveals(identity, request.match_info["id"]))

    def require_auditor(self, identity: Identity) -> None:
        if AUDITOR not in self.policy.policy.roles(identity):
            raise PermissionDenied(
                "revealing originals, and reading who did, needs the auditor role: ask for it in the policy's "
                "clearances",
                code="auditor_role_required",
            )

    async def reveal(self, identity: Identity, record_id: str, body: Any) -> RevealedOriginals:
        """Record a reveal of the record's originals by ``identity`` (an auditor), with the reason of ``body``
        (``{"reason": "..."}``, redacted before it is stored), then open them. Send the result with
        ``Cache-Control: no-store`` only."""
        self.require_auditor(identity)
        number = _record_id(record_id)
        reason = reveal_body(body).reason
        originals = self.originals
        if originals is None:
            raise NotFound(
                "this gateway keeps no originals (audit.originals is off), so it cannot open any: configure its "
                "keyring to reveal records sealed under it",
                code="originals_disabled",
            )
        stored = await asyncio.to_thread(stored_originals, self.engine, number)
        reveal = await asyncio.to_thread(
            record_reveal,
            self.engine,
            number,
            subject=identity.subject,
            email=identity.email,
            reason=self.redact(reason),
        )
        log.warning("originals revealed", extra={"record_id": number, "subject": identity.subject})
        opened = open_originals(stored.envelope, record_id=stored.request_id, keyring=originals.keyring)
        return RevealedOriginals(
            record_id=number,
            request_id=stored.request_id,
            kek_id=stored.kek_id,
            request=opened.request,
            answer=opened.answer,
            truncated=opened.truncated,
            reveal=RevealResource.of(reveal),
        )

    async def reveals(self, identity: Identity, record_id: str) -> RevealPage:
        """Every reveal of the record's originals, oldest first (an auditor only)."""
        self.require_auditor(identity)
        found = await asyncio.to_thread(reveals_of, self.engine, _record_id(record_id))
        return RevealPage(data=[RevealResource.of(r) for r in found])


REVEAL_API: Final = web.AppKey("reveal_api", RevealApi)
