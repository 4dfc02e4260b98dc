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
- ``GET /admin/v1/approvals/events``: Server-Sent Events (``text/event-stream``), one per change of an approval the
  caller may see (``requested``, ``approved_step``, ``approved``, ``denied``, ``cancelled``, ``expired``,
  ``escalated``, ``used``, ``break_glass``, ``acknowledged``: the event's name), its data the approval resource as
  JSON, read from the store as ``GET /admin/v1/approvals/{id}`` would answer; a comment every ``HEARTBEAT_SECONDS``,
  ``retry:`` first. The changes come from ``clearance.approvals.signals`` (this process, and other instances' through
  PostgreSQL's ``LISTEN``). At most ``MAX_STREAMS_PER_CALLER`` open per subject (429 ``too_many_streams``); every
  stream ends when the gateway shuts down.
- ``DELETE /admin/v1/approvals/{id}``: the requester cancels a pending request.
- ``POST /admin/v1/approvals/{id}/acknowledge`` with ``{"reason": "..."}``: an auditor, or an approver of its
  groups, reviews a break-glass approval (never its requester); ``?review=pending`` lists those still to review.

An ``auditor`` reads every approval (list and show), and only reads: deciding still needs the ``approver`` role and
a member of the approval's groups.

Every reason given here (an approver's, a reviewer's, a requester's when cancelling) is redacted before it is
stored (``redact``: every finding to its type, as the requester's ``X-Clearance-Reason`` is): the requester, other
approvers and the notifiers read it, and none of them may read a raw value an approver pasted into it.

Every route is an operation of ``ApprovalsApi`` (``list_approvals``, ``get_approval``, ``approve``, ``deny``,
``cancel``, ``acknowledge``, ``events``) that takes the caller's ``Identity`` and does every check itself; the
console calls the same operations with its signed-in user's identity (``APPROVALS_API`` on the app).

Callers authenticate exactly as for model requests (the gateway's authenticator: an OIDC token or a ``clr_`` key);
an anonymous caller gets 401, a caller the policy gives no role 403. Errors are in the data path's OpenAI shape.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Final, get_args

import orjson
from aiohttp import web
from pydantic import BaseModel, ValidationError

from clearance.admin.access import APPROVER, AUDITOR, Authenticate, signed_in
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
from clearance.approvals.signals import ANY, CLOSED, ApprovalSignals, Feed
from clearance.approvals.store import ApprovalStore
from clearance.exceptions import (
    ApprovalNotFound,
    ClearanceError,
    InvalidJSON,
    InvalidRequest,
    PayloadTooLarge,
    PermissionDenied,
    TooManyStreams,
)
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_response
from clearance.proxy.request_body import read_body

PREFIX: Final = "/admin/v1"
MAX_DECISION_BYTES: Final = 16 * 1024
"""The largest body a decision, a cancellation or an acknowledgement may have (a reason is 500 characters)."""
DECISION_BODY_TIMEOUT: Final = 30.0
"""Seconds such a body has to arrive."""
HEARTBEAT_SECONDS: Final = 15.0
"""An event stream sends a comment this often when nothing changes, so proxies keep it open and a client that went
away is noticed (its write fails)."""
RETRY_MILLISECONDS: Final = 3_000
"""The ``retry:`` an event stream announces: how long a browser's ``EventSource`` waits before it reconnects."""
MAX_STREAMS_PER_CALLER: Final = 4
"""Event streams one subject may hold open on one instance (a few console tabs); beyond, 429 ``too_many_streams``."""
MAX_REMEMBERED: Final = 1_000
"""Approvals an event stream remembers the last sent version of, so that a repeated signal sends nothing."""
EVENT_STREAM_TYPE: Final = "text/event-stream"
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


def _is_requester(approval: ApprovalRequest | ApprovalResource, identity: Identity) -> bool:
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

    def may_decide(self, approval: ApprovalRequest | ApprovalResource) -> bool:
        return self.approver and bool(set(self.identity.groups) & set(approval.approvers))

    def may_see(self, approval: ApprovalRequest | ApprovalResource) -> bool:
        return self.auditor or _is_requester(approval, self.identity) or self.may_decide(approval)

    def is_requester(self, approval: ApprovalRequest | ApprovalResource) -> bool:
        return _is_requester(approval, self.identity)

    def may_act_on(self, approval: ApprovalResource) -> bool:
        """Whether approving or denying ``approval`` now may succeed: pending, one of its approvers, not its
        requester, not approved by them already. For what a page offers; the operations decide."""
        return (
            approval.state == "pending"
            and self.may_decide(approval)
            and not self.is_requester(approval)
            and self.identity.subject not in approval.approved_by
        )


def change_of(approval: ApprovalResource) -> str:
    """What the approval's latest change was, in the notifications' words where they have one
    (``clearance.approvals.config.EventKind``): ``requested``, ``approved_step`` (one approval of several),
    ``approved``, ``denied``, ``cancelled``, ``expired``, ``escalated``, ``used``, ``break_glass`` (granted by its
    requester) or ``acknowledged`` (a break-glass reviewed)."""
    last = approval.history[-1]
    if approval.state == "expired":  # recorded, or lapsed and not recorded yet
        return "expired"
    if approval.review == "acknowledged" and approval.reviewed_at == last.at and approval.reviewed_by == last.actor:
        return "acknowledged"
    if approval.break_glass and len(approval.history) == 2:
        return "break_glass"
    if len(approval.history) == 1:
        return "requested"
    if last.state == "pending":
        escalated = approval.escalated_at == last.at and last.actor == "system"
        return "escalated" if escalated else "approved_step"
    return last.state


@dataclass(frozen=True, slots=True)
class ApprovalEvent:
    """One change of an approval the stream's caller may see, with the approval as it is after it."""

    change: str
    """``change_of(approval)``: the event's name."""
    approval: ApprovalResource

    def sse(self) -> bytes:
        """As a Server-Sent Event: its name, and the approval resource as JSON on one data line."""
        return b"event: " + self.change.encode() + b"\ndata: " + self.approval.model_dump_json().encode() + b"\n\n"


class ApprovalEvents:
    """An open stream of ``ApprovalEvent``s for one caller (``ApprovalsApi.events``). Enter it (``async with``:
    that takes one of the caller's ``MAX_STREAMS_PER_CALLER`` slots, or raises ``TooManyStreams``), then iterate:
    each change of an approval the caller may see comes once, and None when ``heartbeat`` seconds passed without
    one. The iteration ends when the gateway stops (the signals close), when the caller loses their role, or at
    ``until`` (the clock's time, e.g. when a console session ends)."""

    def __init__(self, api: ApprovalsApi, caller: Caller, heartbeat: float, until: float | None = None) -> None:
        self._api = api
        self._caller = caller
        self._heartbeat = heartbeat
        self._until = until
        self._feeding: AbstractContextManager[Feed] | None = None
        self._feed: Feed | None = None
        self._opened_at = 0.0

    async def __aenter__(self) -> ApprovalEvents:
        self._api._take_stream(self._caller)
        self._feeding = self._api.signals.feed()
        self._feed = self._feeding.__enter__()  # from now on, no change is missed
        self._opened_at = self._api.clock()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._feeding is not None:
            self._feeding.__exit__(None, None, None)
            self._feeding = self._feed = None
            self._api._give_stream(self._caller)

    def __aiter__(self) -> AsyncIterator[ApprovalEvent | None]:
        return self._events()

    async def _events(self) -> AsyncIterator[ApprovalEvent | None]:
        if self._feed is None:
            raise RuntimeError("enter the stream (async with) before reading it")
        sent: dict[str, tuple[int, str, str | None]] = {}
        while True:
            wait = self._heartbeat
            if self._until is not None:
                left = self._until - self._api.clock()
                if left <= 0:
                    return
                wait = min(wait, left)
            item = await self._feed.next(wait)
            if item is None:
                if self._until is None or self._api.clock() < self._until:
                    yield None
                continue
            if item == CLOSED:
                return
            try:
                changed = await self._read(item)
            except PermissionDenied:  # the policy took the caller's role away meanwhile
                return
            for approval in changed:
                version = (len(approval.history), approval.state, approval.review)
                if sent.get(approval.id) == version:
                    continue  # the same change signalled twice (in process and by NOTIFY), or a spurious signal
                if item == ANY and approval.id not in sent and approval.created_at < self._opened_at:
                    continue  # read again after a lost notification: only what may be new to this stream
                sent.pop(approval.id, None)
                sent[approval.id] = version
                if len(sent) > MAX_REMEMBERED:
                    del sent[next(iter(sent))]
                yield ApprovalEvent(change_of(approval), approval)

    async def _read(self, item: str) -> list[ApprovalResource]:
        identity = self._caller.identity
        if item == ANY:  # a notification may have been lost: the latest the caller may see
            return (await self._api.list_approvals(identity, {"limit": str(MAX_PAGE_SIZE)})).data
        try:
            return [await self._api.get_approval(identity, item)]
        except ApprovalNotFound:  # not one the caller may see
            return []


@dataclass(frozen=True, slots=True)
class ApprovalsApi:
    """The approvals' operations, bound to the gateway's store, policy, authenticator and clock (tests pass their
    own clock), and the HTTP handlers that call them.

    Each operation takes the caller's ``Identity`` (already authenticated; ``Identity.anonymous()`` where the
    console runs without auth on loopback) and typed arguments, does every role check itself and returns a resource
    or raises a ``ClearanceError``: the admin API's handlers and the console call the very same operations, so
    there is one path to the approvals, one set of rules. The HTTP handlers only read the request, authenticate
    (``signed_in``: the API refuses anonymous callers), call the operation and serialise."""

    store: ApprovalStore
    policy: PolicyHolder
    authenticate: Authenticate
    clock: Clock
    redact: Redact
    """Every finding in a reason redacted to its type (``clearance.enforce.inspector.Inspector.redact``)."""
    notify: Notify = notify_nobody
    """Tells the notifiers of a decision or a cancellation (``clearance.approvals.notifiers.Notifications``)."""
    signals: ApprovalSignals = field(default_factory=ApprovalSignals)
    """Every change the store commits (and, on PostgreSQL, other instances'): what event streams follow."""
    max_streams: int = MAX_STREAMS_PER_CALLER
    _streams: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    """Open event streams per subject (touched in the event loop only)."""

    # -- operations ----------------------------------------------------------------------------------------------

    def caller(self, identity: Identity) -> Caller:
        """The identity with its roles; ``role_required`` (403) when the policy gives it none."""
        roles = self.policy.policy.roles(identity)
        if not roles:
            raise PermissionDenied(
                "the policy gives you no role: ask for a clearance with a role (user, approver, auditor) in the policy",
                code="role_required",
            )
        return Caller(identity, roles)

    async def list_approvals(self, identity: Identity, query: Mapping[str, str]) -> ApprovalPage:
        """What ``identity`` may see, newest first: ``state``, ``review``, ``limit`` and ``cursor`` as the API's
        query string has them (400 for a wrong one)."""
        caller = self.caller(identity)
        state = _state(query.get("state"))
        review = _review(query.get("review"))
        limit = page_limit(query.get("limit"))
        cursor = query.get("cursor")
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
        for where in queries:
            for approval in await asyncio.to_thread(
                self.store.list, state=stored, review=review, limit=limit + 1, after=after, **where
            ):
                found[approval.id] = approval
        merged = sorted(found.values(), key=_order)[: limit + 1]
        page = merged[:limit]
        data = [ApprovalResource.of(a, now=now) for a in page if caller.may_see(a)]
        if state is not None:  # the state shown, lapse included (a page may so hold fewer than limit)
            data = [resource for resource in data if resource.state == state]
        next_cursor = encode_cursor(page[-1]) if len(merged) > limit else None
        return ApprovalPage(data=data, next_cursor=next_cursor)

    async def get_approval(self, identity: Identity, approval_id: str) -> ApprovalResource:
        """One approval ``identity`` may see (404 for any other, as for one that does not exist)."""
        return ApprovalResource.of(await self._visible(self.caller(identity), approval_id), now=self.clock())

    async def approve(self, identity: Identity, approval_id: str, reason: str = "") -> ApprovalResource:
        """One approval by ``identity`` (the approver role, a member of its groups, not its requester, once)."""
        return await self._decide(self.caller(identity), approval_id, reason, approve)

    async def deny(self, identity: Identity, approval_id: str, reason: str = "") -> ApprovalResource:
        """A denial by ``identity`` (the approver role, a member of its groups, not its requester)."""
        return await self._decide(self.caller(identity), approval_id, reason, deny)

    async def cancel(self, identity: Identity, approval_id: str, reason: str = "") -> ApprovalResource:
        """Its requester withdraws a pending approval."""
        caller = self.caller(identity)
        await self._visible(caller, approval_id)
        kept = self._redacted(reason)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply, approval_id, lambda a: cancel(a, caller.identity, kept, now=now)
        )
        self.notify("cancelled", approval)
        return ApprovalResource.of(approval, now=now)

    async def acknowledge(self, identity: Identity, approval_id: str, reason: str = "") -> ApprovalResource:
        """An auditor, or an approver of its groups, reviews a break-glass approval (never its requester)."""
        caller = self.caller(identity)
        if not (caller.auditor or caller.approver):
            raise PermissionDenied(
                "acknowledging a break-glass approval needs the auditor or approver role: ask for one in the "
                "policy's clearances",
                code="reviewer_role_required",
            )
        await self._visible(caller, approval_id)
        kept = self._redacted(reason)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply,
            approval_id,
            lambda a: acknowledge(a, caller.identity, kept, now=now, auditor=caller.auditor),
        )
        return ApprovalResource.of(approval, now=now)

    def events(
        self, identity: Identity, *, heartbeat: float = HEARTBEAT_SECONDS, until: float | None = None
    ) -> ApprovalEvents:
        """The changes of the approvals ``identity`` may see, from now on until ``until`` (if given): ``async with
        api.events(who) as events: async for event in events: ...`` (None: ``heartbeat`` seconds without a change).
        Each event is read from the store as the caller may see it: it never says more than ``get_approval``
        would."""
        return ApprovalEvents(self, self.caller(identity), heartbeat, until)

    def _take_stream(self, caller: Caller) -> None:
        subject = caller.identity.subject
        if self._streams.get(subject, 0) >= self.max_streams:
            raise TooManyStreams(
                f"you hold {self.max_streams} approval event streams open already: close one (a console tab) first",
                details={"max_streams": self.max_streams},
            )
        self._streams[subject] = self._streams.get(subject, 0) + 1

    def _give_stream(self, caller: Caller) -> None:
        subject = caller.identity.subject
        left = self._streams.get(subject, 1) - 1
        if left > 0:
            self._streams[subject] = left
        else:
            self._streams.pop(subject, None)

    async def _visible(self, caller: Caller, approval_id: str) -> ApprovalRequest:
        # the same answer whether it does not exist or is not the caller's to see
        unseen = ApprovalNotFound("there is no approval with this id that you may see: check the id")
        if not is_approval_id(approval_id):
            raise unseen
        try:
            approval = await asyncio.to_thread(self.store.get, approval_id)
        except ApprovalNotFound:
            raise unseen from None
        if not caller.may_see(approval):
            raise unseen
        return approval

    def _redacted(self, reason: str) -> str:
        """The reason as stored: it is shown to the requester and approvers, and notified, so every finding in it is
        redacted; one longer than a reason may be is refused before it is scanned."""
        if len(reason) > MAX_REASON_CHARS and len(reason.strip()) > MAX_REASON_CHARS:
            raise InvalidRequest(
                f"the reason is too long; keep it to {MAX_REASON_CHARS} characters",
                code="reason_too_long",
                param="reason",
            )
        return self.redact(reason) if reason.strip() else reason

    async def _decide(
        self, caller: Caller, approval_id: str, reason: str, decide: Callable[..., ApprovalRequest]
    ) -> ApprovalResource:
        if not caller.approver:
            raise PermissionDenied(
                "deciding approvals needs the approver role: ask for it in the policy's clearances",
                code="approver_role_required",
            )
        await self._visible(caller, approval_id)
        kept = self._redacted(reason)
        now = self.clock()
        approval = await asyncio.to_thread(
            self.store.apply, approval_id, lambda a: decide(a, caller.identity, kept, now=now)
        )
        if approval.state in ("approved", "denied"):  # not an approval that still needs others
            self.notify(approval.state, approval)
        return ApprovalResource.of(approval, now=now)

    # -- HTTP ----------------------------------------------------------------------------------------------------

    def register(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"{PREFIX}/openapi.json", _openapi)
        router.add_get(f"{PREFIX}/approvals", self._answering(self._list))
        router.add_get(f"{PREFIX}/approvals/events", self._event_stream)  # before {id}: events is no id
        router.add_get(f"{PREFIX}/approvals/{{id}}", self._answering(self._show))
        router.add_delete(f"{PREFIX}/approvals/{{id}}", self._answering(self._deciding(self.cancel)))
        router.add_post(f"{PREFIX}/approvals/{{id}}/approve", self._answering(self._deciding(self.approve)))
        router.add_post(f"{PREFIX}/approvals/{{id}}/deny", self._answering(self._deciding(self.deny)))
        router.add_post(f"{PREFIX}/approvals/{{id}}/acknowledge", self._answering(self._deciding(self.acknowledge)))

    def _answering(
        self, handler: Callable[[web.Request, Identity], Awaitable[BaseModel]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def answer(request: web.Request) -> web.Response:
            try:
                return _json(await handler(request, await signed_in(self.authenticate, request)))
            except ClearanceError as error:
                return error_response(error)

        return answer

    async def _event_stream(self, request: web.Request) -> web.StreamResponse:
        try:
            async with self.events(await signed_in(self.authenticate, request)) as events:
                return await stream_events(request, events)
        except ClearanceError as error:
            return error_response(error)

    async def _list(self, request: web.Request, identity: Identity) -> ApprovalPage:
        return await self.list_approvals(identity, request.query)

    async def _show(self, request: web.Request, identity: Identity) -> ApprovalResource:
        return await self.get_approval(identity, request.match_info["id"])

    @staticmethod
    def _deciding(
        operation: Callable[[Identity, str, str], Awaitable[ApprovalResource]],
    ) -> Callable[[web.Request, Identity], Awaitable[ApprovalResource]]:
        """A handler for an operation on one approval with a ``{"reason": ...}`` body."""

        async def handle(request: web.Request, identity: Identity) -> ApprovalResource:
            return await operation(identity, request.match_info["id"], (await _decision(request)).reason)

        return handle


async def stream_events(request: web.Request, events: AsyncIterable[ApprovalEvent | None]) -> web.StreamResponse:
    """Send ``events`` as Server-Sent Events until they end or the client goes away: ``retry:`` first, each event,
    and a comment line as the heartbeat."""
    response = web.StreamResponse(headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
    response.content_type = EVENT_STREAM_TYPE
    await response.prepare(request)
    try:
        await response.write(f"retry: {RETRY_MILLISECONDS}\n\n".encode())
        async for event in events:
            await response.write(b": heartbeat\n\n" if event is None else event.sse())
    except ConnectionResetError:  # the client went away: its slot is given back as the stream closes
        pass
    return response


async def _openapi(_request: web.Request) -> web.Response:
    return web.Response(body=orjson.dumps(openapi_document()), content_type=JSON_CONTENT_TYPE)


APPROVALS_API: Final = web.AppKey("approvals_api", ApprovalsApi)
"""The app's ``ApprovalsApi``: the console calls its operations."""
