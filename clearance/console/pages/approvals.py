"""The approvals inbox: what the signed-in user may decide, live; their own pending requests; what was decided lately.

- ``GET /console/approvals``: three lists (to decide, my pending requests, recently decided; and break-glass grants
  to review for an auditor or approver), each approval with who asks, the model, why, the types found and how many,
  the rule and its reasons, approvals given of those needed, the expiry and the masked preview.
- ``GET /console/approvals/list``: the same lists as an HTML fragment, for ``approvals.js`` to swap in.
- ``GET /console/approvals/events``: the admin API's event stream (``ApprovalsApi.events``) under the console's
  session: ``approvals.js`` re-fetches the lists when it says something changed. It ends when the session would,
  and once the session is signed out (nothing is sent after that).
- ``GET /console/approvals/{id}``: one approval whole (history, ``released_as``), with the approve and deny forms
  for someone who may decide it, cancel for its requester, and acknowledge for a break-glass review. Notification
  links open it.
- ``POST /console/approvals/{id}/{approve,deny,cancel,acknowledge}``: plain forms (field ``csrf``, field
  ``reason``), then 303 back to the approval.

Every read and every action is an operation of ``clearance.admin.approvals.ApprovalsApi`` called with the console
user's identity: the roles, the approver groups and the lifecycle's rules are the API's own, and a refusal is an
error page with its status. What a page offers (a button) follows the same rules, as a courtesy only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any, Final

from aiohttp import web

from clearance.admin.approvals import APPROVALS_API, ApprovalEvent, ApprovalsApi, Caller, stream_events
from clearance.admin.resources import MAX_PAGE_SIZE, ApprovalResource
from clearance.console.access import CONSOLE, SESSION, ConsoleUser, console_form, console_user, form_text
from clearance.console.render import redirect, render, render_fragment
from clearance.console.session import COOKIE
from clearance.models import Identity

PATH: Final = "/console/approvals"
RECENT: Final = 20
"""How many decided approvals the inbox shows."""
DECIDED: Final = frozenset({"approved", "denied", "cancelled", "expired", "used"})

Action = Callable[[Identity, str, str], Awaitable[ApprovalResource]]


async def _lists(request: web.Request, user: ConsoleUser) -> dict[str, Any]:
    """What the inbox shows, read through the API's operations as this user."""
    api = request.app[APPROVALS_API]
    caller = Caller(user.identity, user.roles)
    pending = (await api.list_approvals(user.identity, {"state": "pending", "limit": str(MAX_PAGE_SIZE)})).data
    latest = (await api.list_approvals(user.identity, {"limit": str(MAX_PAGE_SIZE)})).data
    review: list[ApprovalResource] = []
    if caller.auditor or caller.approver:
        page = await api.list_approvals(user.identity, {"review": "pending", "limit": str(MAX_PAGE_SIZE)})
        review = [a for a in page.data if not caller.is_requester(a)]
    return {
        "to_decide": [a for a in pending if caller.may_act_on(a)],  # not those they approved already
        "mine": [a for a in pending if caller.is_requester(a)],
        "recent": [a for a in latest if a.state in DECIDED][:RECENT],
        "to_review": review,
        "caller": caller,
    }


async def inbox(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    return render(request, "approvals/inbox.html", user=user, title="Approvals", **await _lists(request, user))


async def _passive_user(request: web.Request) -> ConsoleUser:
    """The caller of a request the page's script makes by itself (the live stream, the lists it re-fetches): not
    the user's activity, so the session keeps the last-seen time its cookie came with and still ends after its
    idle timeout when nobody uses the page."""
    user = await console_user(request)
    if user.signed_in:
        came_with = request.app[CONSOLE].codec.load(request.cookies.get(COOKIE))
        if came_with is not None:
            request[SESSION] = came_with  # the cookie sent back keeps its last-seen time
    return user


async def inbox_lists(request: web.Request) -> web.StreamResponse:
    user = await _passive_user(request)
    return render_fragment(request, "approvals/lists.html", user=user, **await _lists(request, user))


async def events(request: web.Request) -> web.StreamResponse:
    """The event stream, ending when the session would (its idle or absolute timeout): a stream is not activity,
    and a browser left open keeps no one's access past their session; ``approvals.js`` then says to reload."""
    user = await _passive_user(request)
    until = None
    if user.signed_in:
        session, codec = request[SESSION], request.app[CONSOLE].codec
        until = min(session.signed_in_at + codec.absolute_timeout, session.seen_at + codec.idle_timeout)
    async with request.app[APPROVALS_API].events(user.identity, until=until) as changes:
        return await stream_events(request, _while_signed_in(request, changes))


async def _while_signed_in(
    request: web.Request, changes: AsyncIterable[ApprovalEvent | None]
) -> AsyncIterator[ApprovalEvent | None]:
    """``changes`` until the session is signed out (elsewhere, or a copy of its cookie): checked before each event
    and heartbeat is sent, so a stream says nothing after a sign-out and ends by the next heartbeat at the latest."""
    signouts = request.app[CONSOLE].signouts
    sid = request[SESSION].sid
    async for change in changes:
        if signouts is not None and await asyncio.to_thread(signouts.signed_out, sid):
            return
        yield change


async def show(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    approval = await request.app[APPROVALS_API].get_approval(user.identity, request.match_info["id"])
    caller = Caller(user.identity, user.roles)
    return render(
        request,
        "approvals/approval.html",
        user=user,
        title=f"Approval {approval.id}",
        approval=approval,
        may_decide=caller.may_act_on(approval),
        may_cancel=approval.state == "pending" and caller.is_requester(approval),
        may_review=approval.review == "pending"
        and (caller.auditor or caller.may_decide(approval))
        and not caller.is_requester(approval),
        reason_required=approval.reason_from in ("approver", "both"),
    )


def _acting(operation: Callable[[ApprovalsApi], Action]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A form post that calls ``operation`` with the form's reason, then goes back to the approval (303)."""

    async def act(request: web.Request) -> web.StreamResponse:
        user, form = await console_form(request)  # the CSRF check, before anything is read or done
        approval_id = request.match_info["id"]
        await operation(request.app[APPROVALS_API])(user.identity, approval_id, form_text(form, "reason"))
        return redirect(f"{PATH}/{approval_id}")

    return act


def register(router: web.UrlDispatcher) -> None:
    router.add_get(PATH, inbox)
    router.add_get(f"{PATH}/list", inbox_lists)  # before {id}: neither is an approval id
    router.add_get(f"{PATH}/events", events)
    router.add_get(f"{PATH}/{{id}}", show)
    router.add_post(f"{PATH}/{{id}}/approve", _acting(lambda api: api.approve))
    router.add_post(f"{PATH}/{{id}}/deny", _acting(lambda api: api.deny))
    router.add_post(f"{PATH}/{{id}}/cancel", _acting(lambda api: api.cancel))
    router.add_post(f"{PATH}/{{id}}/acknowledge", _acting(lambda api: api.acknowledge))
