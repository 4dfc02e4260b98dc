"""The audit records resources of the admin API (docs/audit.md, "Query"):

- ``GET /admin/v1/records``: records newest first, for the ``auditor`` role; filters ``subject``, ``group``,
  ``model``, ``level``, ``decision``, ``rule``, ``type`` (a finding's entity type), ``since`` and ``until`` (ISO 8601
  or seconds since the epoch), ``status`` and ``request_id``; ``limit`` and the opaque ``cursor`` page through (the
  ``next_cursor`` of the previous page, as the approvals API does). Keyset pages on the record id
  (``clearance.audit.query``), so the last page of a big trail costs what the first does.
- ``GET /admin/v1/records?mine=true``: "my records": any authenticated caller, no role needed, sees the records
  whose subject is theirs (the other filters apply too).
- ``GET /admin/v1/records/{id}``: one record (its id is the row id ``clearance audit verify`` reports), its
  forwarded request and returned answer as the record mode kept them (already redacted) and where its findings sit.
  An auditor sees any; anyone else only their own: 404 for the others, as for an id that does not exist.

Nothing here holds a raw value: the record itself never does (``clearance.models.AuditRecord``). Revealing an
encrypted original is another resource, with its own role check and its own record.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Final

import orjson
from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import Engine

from clearance.admin.access import Authenticate, signed_in
from clearance.admin.approvals import AUDITOR, PREFIX
from clearance.admin.record_resources import RecordPage, RecordResource, RecordSummary
from clearance.admin.resources import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from clearance.audit import query
from clearance.audit.query import RecordFilter
from clearance.exceptions import ClearanceError, InvalidRequest, PermissionDenied, RecordNotFound
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response

TEXT_FILTERS: Final = ("subject", "group", "model", "level", "decision", "rule", "type", "request_id")
MAX_RECORD_ID: Final = 2**63 - 1


def encode_cursor(record_id: int) -> str:
    """Opaque to callers: the next page holds the records older than this one."""
    return base64.urlsafe_b64encode(orjson.dumps(["r", record_id])).decode().rstrip("=")


def decode_cursor(text: str) -> int:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        value = None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or value[0] != "r"
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
        or not 0 <= value[1] <= MAX_RECORD_ID
    ):
        raise InvalidRequest(
            "cursor is not one this API gave: pass the next_cursor of the previous page as it is",
            code="invalid_cursor",
            param="cursor",
        )
    return value[1]


def parse_time(text: str, name: str) -> datetime:
    """ISO 8601 (a time without a zone is UTC) or seconds since the epoch."""
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        moment = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        raise InvalidRequest(
            f"{name} must be an ISO 8601 time (2026-01-31T12:00:00Z) or seconds since the epoch", param=name
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _whole(text: str | None, name: str, low: int, high: int) -> int | None:
    if text is None:
        return None
    if not text.isdigit() or not low <= int(text) <= high:
        raise InvalidRequest(f"{name} must be a whole number from {low} to {high}", param=name)
    return int(text)


def record_filter(params: Mapping[str, str]) -> RecordFilter:
    """The filters of a query string, checked."""
    texts = {name: params[name] for name in TEXT_FILTERS if name in params}
    for name, value in texts.items():
        if not value or len(value) > 320:
            raise InvalidRequest(f"{name} must be 1 to 320 characters", param=name)
    since = params.get("since")
    until = params.get("until")
    return RecordFilter(
        **texts,
        since=parse_time(since, "since") if since is not None else None,
        until=parse_time(until, "until") if until is not None else None,
        status=_whole(params.get("status"), "status", 0, 999),
    )


def _mine(text: str | None) -> bool:
    if text is None or text == "false":
        return False
    if text == "true":
        return True
    raise InvalidRequest("mine must be true or false", param="mine")


def _json(resource: BaseModel) -> web.Response:
    return web.Response(body=resource.model_dump_json(), content_type=JSON_CONTENT_TYPE)


@dataclass(frozen=True, slots=True)
class RecordsApi:
    """The handlers, bound to the gateway's database (the audit store's), policy (for roles) and authenticator."""

    engine: Engine
    policy: PolicyHolder
    authenticate: Authenticate

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{PREFIX}/records", self._answering(self.list))
        router.add_get(f"{PREFIX}/records/{{id}}", self._answering(self.show))

    def _answering(
        self, handler: Callable[[web.Request, Identity, bool], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                identity = await signed_in(self.authenticate, request)
                auditor = AUDITOR in self.policy.policy.roles(identity)
                return await handler(request, identity, auditor)
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def list(self, request: web.Request, identity: Identity, auditor: bool) -> web.Response:
        params = request.query
        mine = _mine(params.get("mine"))
        wanted = record_filter(params)
        if mine:
            if wanted.subject is not None and wanted.subject != identity.subject:
                raise InvalidRequest("mine=true lists your own records: leave subject out", param="subject")
            wanted = replace(wanted, subject=identity.subject)
        elif not auditor:
            raise PermissionDenied(
                "listing every record needs the auditor role: ask for it in the policy's clearances, or list your "
                "own with mine=true",
                code="auditor_role_required",
            )
        limit = _whole(params.get("limit"), "limit", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        cursor = params.get("cursor")
        before = None if cursor is None else decode_cursor(cursor)
        rows = await asyncio.to_thread(query.page, self.engine, wanted, limit=limit + 1, before=before)
        shown = rows[:limit]
        next_cursor = encode_cursor(shown[-1]["id"]) if len(rows) > limit else None
        return _json(RecordPage(data=[RecordSummary.of(r) for r in shown], next_cursor=next_cursor))

    async def show(self, request: web.Request, identity: Identity, auditor: bool) -> web.Response:
        unseen = RecordNotFound("there is no record with this id that you may see: check the id")
        text = request.match_info["id"]
        if not text.isdigit() or int(text) > MAX_RECORD_ID:
            raise unseen
        row = await asyncio.to_thread(query.get, self.engine, int(text))
        if row is None or not (auditor or row["subject"] == identity.subject):
            raise unseen
        return _json(RecordResource.of(row))
