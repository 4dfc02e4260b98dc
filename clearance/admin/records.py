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
- ``GET /admin/v1/records/{id}/story``: the record's story, with the same visibility: its approval (the request,
  each decision, the grant and when it was spent), the record, its leaf in the audit tree, the first checkpoint
  that covers it, and whether its integrity verifies (``clearance.audit.verify.verify_record``).
- ``GET /admin/v1/records/export?format=csv|json``: the whole filtered set (the list's filters and roles,
  ``mine=true`` too), oldest first, streamed in keyset batches (``clearance.admin.record_export``).

``RecordsApi``'s operations (``list``, ``show``, ``story``, ``export``) take the caller's ``Identity`` (anonymous
in the console's no-auth mode) and do every role check; the HTTP handlers only authenticate (``signed_in``: the API
refuses anonymous callers), call them and serialise. The console calls the same operations.

Nothing here holds a raw value: the record itself never does (``clearance.models.AuditRecord``). Revealing an
encrypted original is another resource, with its own role check and its own record.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Final

import orjson
from aiohttp import web
from pydantic import BaseModel
from sqlalchemy import Engine

from clearance.admin.access import AUDITOR, Authenticate, signed_in
from clearance.admin.approvals import PREFIX
from clearance.admin.record_export import EXPORT_FORMATS, PreparedExport, stream_export
from clearance.admin.record_resources import RecordPage, RecordResource, RecordStory, RecordSummary
from clearance.admin.resources import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from clearance.approvals.store import ApprovalStore
from clearance.audit import query
from clearance.audit.query import RecordFilter
from clearance.audit.verify import RecordVerifier, VerifiedLeaves, verify_record
from clearance.exceptions import ApprovalNotFound, ClearanceError, InvalidRequest, PermissionDenied, RecordNotFound
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response

TEXT_FILTERS: Final = ("subject", "group", "model", "level", "decision", "rule", "type", "request_id", "approver")
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
    """The filters of a query string, checked (unknown parameters are ignored, as ``limit`` and ``cursor`` are
    read by the caller)."""
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


DEFAULT_EXPORT_MAX_ROWS: Final = 100_000


@dataclass(frozen=True, slots=True)
class RecordsApi:
    """The records' operations, bound to the gateway's database (the audit store's), its approvals (for a record's
    story), policy (for roles), authenticator (for the HTTP handlers only) and the integrity verifier (None:
    ``audit.integrity`` is off)."""

    engine: Engine
    policy: PolicyHolder
    authenticate: Authenticate
    approvals: ApprovalStore | None = None
    verifier: RecordVerifier | None = None
    export_max_rows: int = DEFAULT_EXPORT_MAX_ROWS
    export_batch: int = query.DEFAULT_EXPORT_PAGE
    clock: Callable[[], float] = field(default=lambda: datetime.now(UTC).timestamp())
    verified: VerifiedLeaves = field(default_factory=VerifiedLeaves)

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{PREFIX}/records", self._answering(self._list))
        router.add_get(f"{PREFIX}/records/export", self._answering(self._export))
        router.add_get(f"{PREFIX}/records/{{id}}", self._answering(self._show))
        router.add_get(f"{PREFIX}/records/{{id}}/story", self._answering(self._story))

    def _answering(
        self, handler: Callable[[web.Request, Identity], Awaitable[web.StreamResponse]]
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def answer(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request, await signed_in(self.authenticate, request))
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def _list(self, request: web.Request, identity: Identity) -> web.Response:
        return _json(await self.list(identity, request.query))

    async def _show(self, request: web.Request, identity: Identity) -> web.Response:
        return _json(await self.show(identity, request.match_info["id"]))

    async def _story(self, request: web.Request, identity: Identity) -> web.Response:
        return _json(await self.story(identity, request.match_info["id"]))

    async def _export(self, request: web.Request, identity: Identity) -> web.StreamResponse:
        return await stream_export(request, await self.export(identity, request.query), self.engine)

    def is_auditor(self, identity: Identity) -> bool:
        return AUDITOR in self.policy.policy.roles(identity)

    def visible_filter(self, identity: Identity, params: Mapping[str, str]) -> RecordFilter:
        """The filters asked for, narrowed to what ``identity`` may see: their own with ``mine=true``; everything
        for an auditor; a refusal for anyone else."""
        mine = _mine(params.get("mine"))
        wanted = record_filter(params)
        if mine:
            if wanted.subject is not None and wanted.subject != identity.subject:
                raise InvalidRequest("mine=true lists your own records: leave subject out", param="subject")
            return replace(wanted, subject=identity.subject)
        if not self.is_auditor(identity):
            raise PermissionDenied(
                "listing every record needs the auditor role: ask for it in the policy's clearances, or list your "
                "own with mine=true",
                code="auditor_role_required",
            )
        return wanted

    async def list(self, identity: Identity, params: Mapping[str, str]) -> RecordPage:
        """A page of the records ``identity`` may see, newest first (``limit``, ``cursor``, the filters)."""
        wanted = self.visible_filter(identity, params)
        limit = _whole(params.get("limit"), "limit", 1, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE
        cursor = params.get("cursor")
        before = None if cursor is None else decode_cursor(cursor)
        rows = await asyncio.to_thread(query.page, self.engine, wanted, limit=limit + 1, before=before)
        shown = rows[:limit]
        next_cursor = encode_cursor(shown[-1]["id"]) if len(rows) > limit else None
        return RecordPage(data=[RecordSummary.of(r) for r in shown], next_cursor=next_cursor)

    async def _visible_row(self, identity: Identity, record_id: str) -> dict[str, object]:
        unseen = RecordNotFound("there is no record with this id that you may see: check the id")
        if not record_id.isascii() or not record_id.isdigit() or int(record_id) > MAX_RECORD_ID:
            raise unseen
        row = await asyncio.to_thread(query.get, self.engine, int(record_id))
        if row is None or not (row["subject"] == identity.subject or self.is_auditor(identity)):
            raise unseen
        return row

    async def show(self, identity: Identity, record_id: str) -> RecordResource:
        """One record whole: an auditor's any, anyone's own; 404 for the rest, as for an id that does not exist."""
        return RecordResource.of(await self._visible_row(identity, record_id))

    async def story(self, identity: Identity, record_id: str) -> RecordStory:
        """The record's story (see the module docstring), with the visibility of ``show``."""
        row = await self._visible_row(identity, record_id)
        approval = None
        approval_id = row["approval_id"]
        if isinstance(approval_id, str) and self.approvals is not None:
            try:
                approval = await asyncio.to_thread(self.approvals.get, approval_id)
            except ApprovalNotFound:
                approval = None
        integrity = await asyncio.to_thread(verify_record, self.engine, int(record_id), self.verifier, self.verified)
        return RecordStory.of(row, approval, integrity, now=self.clock())

    async def export(self, identity: Identity, params: Mapping[str, str]) -> PreparedExport:
        """The export of the whole filtered set ``identity`` may see, checked and sized before anything is sent:
        ``export_too_large`` (400) when the filter matches more than ``audit.export_max_rows`` records."""
        wanted = self.visible_filter(identity, params)
        shape = params.get("format", "csv")
        if shape not in EXPORT_FORMATS:
            raise InvalidRequest(f"format must be one of {', '.join(EXPORT_FORMATS)}", param="format")
        counted, newest = await asyncio.to_thread(query.count_upto, self.engine, wanted, limit=self.export_max_rows + 1)
        if counted > self.export_max_rows:
            raise InvalidRequest(
                f"the filter matches more than {self.export_max_rows} records (audit.export_max_rows): narrow it, "
                "for instance with since and until, and export each part",
                code="export_too_large",
            )
        return PreparedExport(shape, wanted, through=newest, batch=self.export_batch)


RECORDS_API: Final = web.AppKey("records_api", RecordsApi)
