"""The approvals resources of the admin API, on the gateway's own server:

- ``GET /admin/v1/approvals``: what the caller may decide (the ``approver`` role and a member of the approval's
  approver groups) and the caller's own requests, newest first; ``state`` filters, ``limit`` and the opaque
  ``cursor`` page through (the ``next_cursor`` of the previous page, as GitHub and Stripe do).
- ``GET /admin/v1/approvals/{id}``: one of those (404 for anyone else: the ids are unguessable, and nothing tells
  a stranger that one exists). Deciding, cancelling and acknowledging answer a caller who may not see the
  approval the same 404, before anything else is checked: a refusal would tell them that it exists, its approver
  groups and its state.
- ``POST /admin/v1/approvals/{id}/approve`` and ``/deny`` with ``{"reason": "..."}``: the ``approver`` role is
  needed to ask; who may decide what (a member of the approver groups, never the requester, each once) is the
  lifecycle's rule (``clearance.approvals.lifecycle``), applied atomically by the store.
- ``DELETE /admin/v1/approvals/{id}``: the requester cancels a pending request.
- ``POST /admin/v1/approvals/{id}/acknowledge`` with ``{"reason": "..."}``: an auditor, or an approver of its
  groups, reviews a break-glass approval (never its requester); ``?review=pending`` lists those still to review.

An ``auditor`` reads every approval (list and show), and only reads: deciding still needs the ``approver`` role and
a member of the approval's groups.

Every reason given here (an approver's, a reviewer's, a requester's when cancelling) is redacted before it is
stored (``redact``: every finding to its type, as the requester's ``X-Clearance-Reason`` is): the requester, other
approvers and the notifiers read it, and none of them may read a raw value an approver pasted into it.

Callers authenticate exactly as for model requests (the gateway's authenticator: an OIDC token or a ``clr_`` key);
an anonymous caller gets 401, a caller the policy gives no role 403. Errors are in the data path's OpenAI shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, get_args

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from clearance.admin.access import Authenticate, signed_in
from clearance.admin.openapi import openapi_document
from clearance.admin.resources import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    ApprovalPage,
    ApprovalResource,
    DecisionBody,
)
from clearance.approvals.lifecycle import acknowledge, approve, cancel, deny, is_approval_id
from clearance.approvals.model import MAX_REASON_CHARS, ApprovalRequest, ApprovalState, ReviewState
from clearance.approvals.notifiers import Notify, notify_nobody
from clearance.approvals.store import ApprovalStore
from clearance.exceptions import (
    ApprovalNotFound,
    ClearanceError,
    InvalidJSON,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDenied,
)
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response
from clearance.proxy.request_body import read_body

PREFIX: Final = "/admin/v1"
APPROVER: Final = "approver"
AUDITOR: Final = "auditor"
MAX_DECISION_BYTES: Final = 16 * 1024
"""The largest body a decision, a cancellation or an acknowledgement may have (a reason is 500 characters)."""
DECISION_BODY_TIMEOUT: Final = 30.0
"""Seconds such a body has to arrive."""
STATES: Final = frozenset(get_args(ApprovalState))
REVIEWS: Final = frozenset(get_args(ReviewState))

Clock = Callable[[], float]
Redact = Callable[[str], str]
Cursor = tuple[float, str]


def encode_cursor(approval: ApprovalRequest) -> str:
    """Opaque to callers: where the next page starts (after this approval, in the list's order)."""
    return base64.urlsafe_b64encode(orjson.dumps([approval.created_at, approval.id])).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    try:
        value = orjson.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        value = None
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not isinstance(value[0], int | float)
        or isinstance(value[0], bool)
        or not isinstance(value[1], str)
    ):
        raise InvalidRequest(
            "cursor is not one this API gave: pass the next_cursor of the previous page as it is",
            code="invalid_cursor",
            param="cursor",
        )
    return float(value[0]), value[1]


def page_limit(text: str | None) -> int:
    """A list's ``limit`` parameter, checked (the default page size when absent)."""
    if text is None:
        return DEFAULT_PAGE_SIZE
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}", param="limit")
    return int(text)


def _state(text: str | None) -> ApprovalState | None:
    if text is None:
        return None
    if text not in STATES:
        raise InvalidRequest(f"state must be one of {', '.join(sorted(STATES))}", param="state")
    state: ApprovalState = text  # type: ignore[assignment]  # checked against the Literal's values just above
    return state


def _review(text: str | None) -> ReviewState | None:
    if text is None:
        return None
    if text not in REVIEWS:
        raise InvalidRequest(f"review must be one of {', '.join(sorted(REVIEWS))}", param="review")
    review: ReviewState = text  # type: ignore[assignment]  # checked against the Literal's values just above
    return review


def _order(approval: ApprovalRequest) -> tuple[float, str]:
    return (-approval.created_at, approval.id)


def _json(resource: BaseModel, status: int = 200) -> web.Response:
    return web.Response(body=resource.model_dump_json(), status=status, content_type=JSON_CONTENT_TYPE)


async def _decision(request: web.Request) -> DecisionBody:
    """The request's body as a ``DecisionBody``; an empty body is an empty reason. At most ``MAX_DECISION_BYTES``,
    arriving within ``DECISION_BODY_TIMEOUT`` (413 and 408 in the OpenAI shape): a reason is 500 characters, and
    neither a 10 MB body nor one sent a byte a minute may hold the admin API."""
    raw = await read_body(request, max_bytes=MAX_DECISION_BYTES, timeout=DECISION_BODY_TIMEOUT)
    if len(raw) > MAX_DECISION_BYTES:
        raise PayloadTooLarge(f'the body is larger than {MAX_DECISION_BYTES} bytes: send {{"reason": "..."}}')
    if not raw.strip():
        return DecisionBody()
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidJSON('the body is not valid JSON: send {"reason": "..."}') from None
    try:
        return DecisionBody.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or None
        if first["type"] == "string_too_long":
            raise InvalidRequest(
                f"the reason is too long; keep it to {MAX_REASON_CHARS} characters", code="reason_too_long", param=where
            ) from None
        raise InvalidRequest(
            f'the body must be {{"reason": "..."}} ({first["msg"]})', code="invalid_request", param=where
        ) from None


def _is_requester(approval: ApprovalRequest, identity: Identity) -> bool:
    """The same person, as the lifecycle tells them: the same subject or the same email."""
    if identity.subject == approval.requester.subject:
        return True
    mine, theirs = identity.email, approval.requester.email
    return mine is not None and theirs is not None and mine.casefold() == theirs.casefold()


@dataclass(frozen=True, slots=True)
class Caller:
    identity: Identity
    roles: frozenset[str]

    @property
    def approver(self) -> bool:
        return APPROVER in self.roles

    @property
    def auditor(self) -> bool:
        """Reads every approval; decides none (unless also an approver of its groups)."""
        return AUDITOR in self.roles

    def may_decide(self, approval: ApprovalRequest) -> bool:
        return self.approver and bool(set(self.identity.groups) & set(approval.approvers))

    def may_see(self, approval: ApprovalRequest) -> bool:
        return self.auditor or _is_requester(approval, self.identity) or self.may_decide(approval)


@dataclass(frozen=True, slots=True)
class ApprovalsApi:
    """The handlers, bound to the gateway's store, policy, authenticator and clock (tests pass their own clock)."""

    store: ApprovalStore
    policy: PolicyHolder
    authenticate: Authenticate
    clock: Clock
    redact: Redact
    """Every finding in a reason redacted to its type (``clearance.enforce.inspector.Inspector.redact``)."""
    notify: Notify = notify_nobody
    """Tells the notifiers of a decision or a cancellation (``clearance.approvals.notifiers.Notifications``)."""

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{PREFIX}/openapi.json", _openapi)
        router.add_get(f"{PREFIX}/approvals", self._answering(self.list))
        router.add_get(f"{PREFIX}/approvals/{{id}}", self._answering(self.show))
        router.add_delete(f"{PREFIX}/approvals/{{id}}", self._answering(self.cancel))
        router.add_post(f"{PREFIX}/approvals/{{id}}/approve", self._answering(self.approve))
        router.add_post(f"{PREFIX}/approvals/{{id}}/deny", self._answering(self.deny))
        router.add_post(f"{PREFIX}/approvals/{{id}}/acknowledge", self._answering(self.acknowledge))

    def _answering(
        self, handler: Callable[[web.Request, Caller], Awaitable[web.Response]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                return await handler(request, await self._caller(request))
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def _caller(self, request: web.Request) -> Caller:
        identity = await signed_in(self.authenticate, request)
        roles = self.policy.policy.roles(identity)
        if not roles:
            raise PermissionDenied(
                "the policy gives you no role: ask for a clearance with a role (user, approver, auditor) in the policy",
                code="role_required",
            )
        return Caller(identity, roles)

    async def _visible(self, request: web.Request, caller: Caller) -> ApprovalRequest:
        # the same answer whether it does not exist or is not the caller's to see
        unseen = ApprovalNotFound("there is no approval with this id that you may see: check the id")
        if not is_approval_id(request.match_info["id"]):
            raise unseen
        try:
            approval = await asyncio.to_thread(self.store.get, request.match_info["id"])
        except ApprovalNotFound:
            raise unseen from None
        if not caller.may_see(approval):
            raise unseen
        return approval

    async def _reason(self, request: web.Request) -> str:
        """The body's reason, redacted: it is stored, shown to the requester and approvers, and notified."""
        reason = (await _decision(request)).reason
        return self.redact(reason) if reason.strip() else reason

    async def list(self, request: web.Request, caller: Caller) -> web.Response:
        state = _state(request.query.get("state"))
        review = _review(request.query.get("review"))
        limit = page_limit(request.query.get("limit"))
        cursor = request.query.get("cursor")
        after = None if cursor is None else decode_cursor(cursor)
        now = self.clock()
        # pending and approved are stored states that may have lapsed: fetched by stored state, then those whose
        # time is over are left out; expired also covers the lapsed ones not yet recorded
        stored: ApprovalState | None = None if state == "expired" else state
        queries: list[dict[str, Any]] = [{"requester": caller.identity.subject}]
        if caller.auditor:
            queries = [{}]  # every approval
        elif caller.approver:
            queries.append({"approver_groups": caller.identity.groups})
        found: dict[str, ApprovalRequest] = {}
        for query in queries:
            for approval in await asyncio.to_thread(
                self.store.list, state=stored, review=review, limit=limit + 1, after=after, **query
            ):
                found[approval.id] = approval
        merged = sorted(found.values(), key=_order)[: limit + 1]
        page = merged[:limit]
        data = [ApprovalResource.of(a, now=now) for a in page if caller.may_see(a)]
        if state is not None:  # the state shown, lapse included (a page may so hold fewer than limit)
            data = [resource for resource in data if resource.state == state]
        next_cursor = encode_cursor(page[-1]) if len(merged) > limit else None
        return _json(ApprovalPage(data=data, next_cursor=next_cursor))

    async def show(self, request: web.Request, caller: Caller) -> web.Response:
        return _json(ApprovalResource.of(await self._visible(request, caller), now=self.clock()))

    async def approve(self, request: web.Request, caller: Caller) -> web.Response:
        return await self._decide(request, caller, approve)

    async def deny(self, request: web.Request, caller: Caller) -> web.Response:
        return await self._decide(request, caller, deny)

    async def _decide(
        self, request: web.Request, caller: Caller, decide: Callable[..., ApprovalRequest]
    ) -> web.Response:
        if not caller.approver:
            raise PermissionDenied(
                "deciding approvals needs the approver role: ask for it in the policy's clearances",
                code="approver_role_required",
            )
        await self._visible(request, caller)
        reason = await self._reason(request)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply, request.match_info["id"], lambda a: decide(a, caller.identity, reason, now=now)
        )
        if approval.state in ("approved", "denied"):  # not an approval that still needs others
            self.notify(approval.state, approval)
        return _json(ApprovalResource.of(approval, now=now))

    async def acknowledge(self, request: web.Request, caller: Caller) -> web.Response:
        if not (caller.auditor or caller.approver):
            raise PermissionDenied(
                "acknowledging a break-glass approval needs the auditor or approver role: ask for one in the "
                "policy's clearances",
                code="reviewer_role_required",
            )
        await self._visible(request, caller)
        reason = await self._reason(request)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply,
            request.match_info["id"],
            lambda a: acknowledge(a, caller.identity, reason, now=now, auditor=caller.auditor),
        )
        return _json(ApprovalResource.of(approval, now=now))

    async def cancel(self, request: web.Request, caller: Caller) -> web.Response:
        await self._visible(request, caller)
        reason = await self._reason(request)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply, request.match_info["id"], lambda a: cancel(a, caller.identity, reason, now=now)
        )
        self.notify("cancelled", approval)
        return _json(ApprovalResource.of(approval, now=now))


async def _openapi(_request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps(openapi_document()), content_type=JSON_CONTENT_TYPE)
