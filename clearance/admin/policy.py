"""The policy resources of the admin API (docs/policy.md, "The policy in the admin API and the console"):

- ``GET /admin/v1/policy``: the policy in force on this instance, summarised (levels, clearances with their roles,
  model and upstream ceilings, rules in order with their conditions and action), its digest and when it was loaded.
- ``GET /admin/v1/policy/versions``: every version a gateway on this database loaded (``clearance.audit.
  policy_versions``), the most recently introduced first; ``limit`` and the opaque ``cursor`` page through.
- ``GET /admin/v1/policy/versions/{digest}``: one version, with its text.
- ``GET /admin/v1/policy/diff?from=DIGEST&to=DIGEST``: a unified diff of two versions' texts.
- ``POST /admin/v1/policy/test``: a request tried, as ``clearance policy test`` tries it (the same function,
  ``clearance.enforce.trial.try_request``, on the gateway's own enforcement stage), under the live policy and, with
  a ``draft``, under the draft too, with the what-if count: the newest ``WHAT_IF_WINDOW`` recorded decisions
  evaluated again under the draft (``clearance.policy.replay``). The text tried is neither recorded nor logged; the
  answer holds it only as it would be sent, masked. An invalid draft is a 400 listing every error with its key path.

Every operation takes the caller's ``Identity`` (the HTTP handlers authenticate it and refuse anonymous callers;
the console passes its signed-in user's) and needs one of the roles approver, auditor or admin: a policy's
clearances, rules and the decisions a text would get tell how to get data past it.
"""

from __future__ import annotations

import asyncio
import base64
import difflib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Final

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine

from clearance.admin.access import ADMIN, APPROVER, AUDITOR, Authenticate, signed_in
from clearance.admin.approvals import PREFIX, decode_cursor, page_limit
from clearance.admin.policy_resources import (
    DiffLine,
    PolicyDiffResource,
    PolicyResource,
    PolicyTestBody,
    PolicyTestResult,
    PolicyVersionPage,
    PolicyVersionResource,
    TrialDecision,
    WhatIf,
)
from clearance.audit import query
from clearance.audit.policy_versions import PolicyVersionStore
from clearance.audit.query import RecordFilter
from clearance.enforce.inspector import Inspector
from clearance.enforce.trial import declared_label, endpoint_named, trial_caller, try_request
from clearance.exceptions import (
    ClearanceError,
    ConfigError,
    InvalidJSON,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
)
from clearance.models import Identity
from clearance.policy import PolicyHolder, compile_policy, evaluate
from clearance.policy.compiled import Policy
from clearance.policy.load import read_policy_text
from clearance.policy.replay import replay
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response
from clearance.proxy.request_body import read_body
from clearance.proxy.routing import ModelRouter

POLICY_ROLES: Final = frozenset({APPROVER, AUDITOR, ADMIN})
"""Any one of these reads the policy, its history, and tries it."""
WHAT_IF_WINDOW: Final = 1000
"""The newest records a draft is evaluated against."""
MAX_TEST_BODY_BYTES: Final = 512 * 1024
"""The largest body of a trial (a draft policy and a text)."""
TEST_BODY_TIMEOUT: Final = 30.0
"""Seconds that body has to arrive."""
_DIGEST_CHARS: Final = frozenset("0123456789abcdef")


def encode_cursor(version: PolicyVersionResource) -> str:
    """Opaque to callers: the next page holds the versions introduced before this one. The approvals' cursor
    format (a time and an id), read back by their ``decode_cursor``."""
    return base64.urlsafe_b64encode(orjson.dumps([version.first_loaded_at, version.digest])).decode().rstrip("=")


def _digest(text: str | None, name: str) -> str:
    if text is None or len(text) != 64 or not set(text) <= _DIGEST_CHARS:
        raise InvalidRequest(f"{name} must be a version's digest: 64 lower-case hex digits", param=name)
    return text


def diff_lines(before: str, after: str, before_name: str, after_name: str) -> tuple[str, list[DiffLine]]:
    """A unified diff of two texts, whole and a line each (its kind, the line without its marker)."""
    raw = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), fromfile=before_name, tofile=after_name, lineterm=""
        )
    )
    lines = []
    for i, line in enumerate(raw):
        if i < 2 and line.startswith(("---", "+++")):
            lines.append(DiffLine(kind="header", text=line))
        elif line.startswith("@@"):
            lines.append(DiffLine(kind="hunk", text=line))
        elif line.startswith("+"):
            lines.append(DiffLine(kind="added", text=line[1:]))
        elif line.startswith("-"):
            lines.append(DiffLine(kind="removed", text=line[1:]))
        else:
            lines.append(DiffLine(kind="context", text=line[1:]))
    return "\n".join(raw) + ("\n" if raw else ""), lines


def invalid_draft(exc: ConfigError) -> InvalidRequest:
    """Every error of a draft policy, each with its key path, in the error body's ``errors``."""
    errors = [{"path": path, "message": message} for path, message in exc.errors]
    listed = "; ".join(f"{e['path']}: {e['message']}" for e in errors)
    return InvalidRequest(
        f"the draft policy is invalid ({len(errors)} error(s)): {listed}",
        code="invalid_policy",
        param="draft",
        details={"errors": errors},
    )


def parse_test_body(raw: bytes) -> PolicyTestBody:
    if len(raw) > MAX_TEST_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_TEST_BODY_BYTES} bytes: shorten the text or the draft")
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJSON('the body is not valid JSON: send {"model": ..., "text": ..., "identity": {...}}') from None
    return trial_body(data)


def trial_body(data: Any) -> PolicyTestBody:
    """``data`` (a JSON body, or the console's form) as a trial; the first problem is a 400 naming its field."""
    try:
        return PolicyTestBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        raise InvalidRequest(f"the body is not a policy test: {where}: {first['msg']}", param=where) from None


@dataclass(frozen=True, slots=True)
class PolicyApi:
    """The policy operations and their HTTP handlers, bound to the gateway's policy holder, its history of
    versions, its audit trail (for the what-if count), its enforcement stage and its models."""

    holder: PolicyHolder
    versions: PolicyVersionStore
    records: Engine
    inspector: Inspector
    router: ModelRouter
    authenticate: Authenticate
    what_if_window: int = WHAT_IF_WINDOW

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{PREFIX}/policy", self._answering(lambda i, _r: self.show(i)))
        router.add_get(f"{PREFIX}/policy/versions", self._answering(lambda i, r: self.list_versions(i, r.query)))
        router.add_get(
            f"{PREFIX}/policy/versions/{{digest}}",
            self._answering(lambda i, r: self.version(i, r.match_info["digest"])),
        )
        router.add_get(f"{PREFIX}/policy/diff", self._answering(lambda i, r: self.diff(i, r.query)))
        router.add_post(f"{PREFIX}/policy/test", self._answering(self._test))

    def _answering(
        self, operation: Callable[[Identity, web.Request], Awaitable[BaseModel]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                resource = await operation(await signed_in(self.authenticate, request), request)
            except ClearanceError as error:
                return error_response(error)
            return web.Response(body=resource.model_dump_json(), content_type=JSON_CONTENT_TYPE)

        return answer

    async def _test(self, identity: Identity, request: web.Request) -> PolicyTestResult:
        self.check(identity)  # before reading a body a caller without a role has no business sending
        raw = await read_body(request, max_bytes=MAX_TEST_BODY_BYTES, timeout=TEST_BODY_TIMEOUT)
        return await self.test(identity, parse_test_body(raw))

    def check(self, identity: Identity) -> None:
        """Refuses a caller without one of ``POLICY_ROLES`` (403)."""
        if POLICY_ROLES.isdisjoint(self.holder.policy.roles(identity)):
            raise PermissionDenied(
                "reading and trying the policy needs the approver, auditor or admin role: ask for one in the "
                "policy's clearances",
                code="policy_role_required",
            )

    async def show(self, identity: Identity) -> PolicyResource:
        self.check(identity)
        loaded = self.holder.loaded
        return PolicyResource.of(loaded.policy, loaded.source, loaded.loaded_at)

    async def list_versions(self, identity: Identity, params: Mapping[str, str]) -> PolicyVersionPage:
        self.check(identity)
        limit = page_limit(params.get("limit"))
        cursor = params.get("cursor")
        after = None if cursor is None else decode_cursor(cursor)
        found = await asyncio.to_thread(self.versions.page, limit=limit + 1, after=after)
        live = self.holder.policy.digest
        data = [PolicyVersionResource.of(v, live) for v in found[:limit]]
        return PolicyVersionPage(data=data, next_cursor=encode_cursor(data[-1]) if len(found) > limit else None)

    async def version(self, identity: Identity, digest: str) -> PolicyVersionResource:
        self.check(identity)
        found = await asyncio.to_thread(self.versions.get, _digest(digest, "digest"))
        if found is None:
            raise NotFound(
                "no policy version with this digest was loaded by a gateway on this database: list them with "
                "GET /admin/v1/policy/versions",
                code="policy_version_not_found",
            )
        return PolicyVersionResource.of(found, self.holder.policy.digest)

    async def diff(self, identity: Identity, params: Mapping[str, str]) -> PolicyDiffResource:
        wanted = _digest(params.get("from"), "from"), _digest(params.get("to"), "to")  # both checked before a read
        before = await self.version(identity, wanted[0])
        after = await self.version(identity, wanted[1])
        text, lines = diff_lines(before.text or "", after.text or "", before.digest[:12], after.digest[:12])
        return PolicyDiffResource(from_digest=before.digest, to_digest=after.digest, diff=text, lines=lines)

    def draft_policy(self, text: str) -> Policy:
        """A draft compiled as the gateway would load it (with the levels its detection declares)."""
        try:
            return compile_policy(read_policy_text(text, source="draft"), text, self.holder.declared)
        except ConfigError as exc:
            raise invalid_draft(exc) from None

    async def test(self, identity: Identity, body: PolicyTestBody) -> PolicyTestResult:
        """``body.text`` decided under the live policy and, with ``body.draft``, under the draft. The text is not
        recorded nor logged; only its masked form is returned."""
        self.check(identity)
        draft = self.draft_policy(body.draft) if body.draft is not None else None
        who = body.identity
        caller = trial_caller(who.user, who.service_account, who.groups, who.email)
        endpoint = endpoint_named(body.endpoint)
        model, upstream = self._route(body.model)
        tried = partial(
            try_request,
            endpoint=endpoint,
            text=body.text,
            identity=caller,
            model=model,
            upstream=upstream,
            declared=declared_label(body.label),
        )
        live = tried(self.inspector)
        if draft is None:
            return PolicyTestResult(live=TrialDecision.of(live.decision, live.sent), draft=None, what_if=None)
        under_draft = tried(self.inspector.deciding_by(draft.classify, partial(evaluate, draft)))
        rows = await asyncio.to_thread(query.page, self.records, RecordFilter(), limit=self.what_if_window)
        report = await asyncio.to_thread(replay, draft, rows[::-1])  # oldest first, as the CLI's replay reads them
        return PolicyTestResult(
            live=TrialDecision.of(live.decision, live.sent),
            draft=TrialDecision.of(under_draft.decision, under_draft.sent),
            what_if=WhatIf.of(report, self.what_if_window),
        )

    def models(self) -> list[str]:
        """The models this gateway serves, by the names the policy sees (what a trial's model is chosen from)."""
        return [route.public_name for route in self.router.models()]

    def _route(self, asked: str) -> tuple[str, str]:
        """The model's name as the policy sees it and its upstream; a model this gateway does not serve is tried
        as named, with no upstream (the policy's rules for unknown models apply)."""
        for route in self.router.models():
            if asked == route.model.name or asked in route.model.aliases:
                return route.public_name, route.upstream.name
        return asked, ""


POLICY_API: Final = web.AppKey("policy_api", PolicyApi)
