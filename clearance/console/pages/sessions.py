"""The sessions browser: recorded exchanges, searched on the server, and each one's transcript and story.

- ``GET /console/sessions``: an auditor's view of every record; the filter form (every filter of the records API,
  as GET parameters, so a filtered view is a link), a page of records newest first, "older →" (the cursor), and
  CSV / JSON Lines export links of the same filter. Anyone else is sent to their own.
- ``GET /console/sessions/mine``: anyone signed in, their own exchanges (``mine=true``: no role needed).
- ``GET /console/sessions/export?format=csv|json&…``: the filtered set as an attachment (``RecordsApi.export``).
- ``GET /console/sessions/{id}``: one record: the transcript (the forwarded request and the answer as the record
  kept them, redacted; each finding marked by type), the decision, and its story (approval → decisions → grant →
  exchange → leaf → checkpoint, with the integrity badge); for auditors, the reveal form and earlier reveals.
- ``POST /console/sessions/{id}/reveal`` (reason required, CSRF-checked): the reveal is recorded by the API's
  operation, then the same page is answered with the originals in it. Not a redirect: the originals must not be
  kept anywhere to be shown again; every console page is ``Cache-Control: no-store``. A reveal the API refuses for
  its reason or its originals (none kept, erased, ``audit.originals`` off) is that page with the refusal beside the
  form; a caller who is not an auditor gets the error page (403).

Every read and the reveal are the admin API's operations (``RecordsApi``, ``RevealApi``) called with the console
user's identity: the role checks are theirs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from aiohttp import web

from clearance.admin.access import AUDITOR
from clearance.admin.record_export import stream_export
from clearance.admin.records import RECORDS_API, TEXT_FILTERS
from clearance.admin.reveal import REVEAL_API, RevealedOriginals
from clearance.console.access import ConsoleUser, console_form, console_user, form_text
from clearance.console.render import render
from clearance.console.transcript import answer_pieces, request_turns, type_classes
from clearance.exceptions import ClearanceError

BASE: Final = "/console/sessions"
FILTERS: Final = (*TEXT_FILTERS, "since", "until", "status")
"""Every filter the records API reads, in the form's order."""
DECISIONS: Final = ("allow", "mask", "require_approval", "block")


def _filters(query: Mapping[str, str], *, mine: bool) -> dict[str, str]:
    """The filters given (an empty field is no filter), without ``subject`` on one's own page."""
    return {
        name: query[name].strip()
        for name in FILTERS
        if query.get(name, "").strip() and not (mine and name == "subject")
    }


async def _listing(request: web.Request, user: ConsoleUser, *, mine: bool) -> web.Response:
    filters = _filters(request.query, mine=mine)
    asked = {**filters, **({"mine": "true"} if mine else {})}
    cursor = request.query.get("cursor")
    page = await request.app[RECORDS_API].list(user.identity, {**asked, **({"cursor": cursor} if cursor else {})})
    here = f"{BASE}/mine" if mine else BASE
    older = f"{here}?{urlencode({**filters, 'cursor': page.next_cursor})}" if page.next_cursor else None
    return render(
        request,
        "sessions/list.html",
        user=user,
        title="My sessions" if mine else "Sessions",
        mine=mine,
        here=here,
        records=page.data,
        filters=filters,
        decisions=DECISIONS,
        paged=cursor is not None,
        older=older,
        first=f"{here}?{urlencode(filters)}" if filters else here,
        exports={shape: f"{BASE}/export?{urlencode({**asked, 'format': shape})}" for shape in ("csv", "json")},
    )


async def every_session(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    if not user.has(AUDITOR):
        raise web.HTTPFound(location=f"{BASE}/mine")
    return await _listing(request, user, mine=False)


async def my_sessions(request: web.Request) -> web.StreamResponse:
    return await _listing(request, await console_user(request), mine=True)


async def export(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    api = request.app[RECORDS_API]
    mine = request.query.get("mine") == "true"
    params = {**_filters(request.query, mine=mine), "format": request.query.get("format", "csv")}
    prepared = await api.export(user.identity, {**params, **({"mine": "true"} if mine else {})})
    return await stream_export(request, prepared, api.engine)


async def _record_page(
    request: web.Request,
    user: ConsoleUser,
    *,
    originals: RevealedOriginals | None = None,
    refused: ClearanceError | None = None,
    reason: str = "",
) -> web.Response:
    record_id = request.match_info["id"]
    story = await request.app[RECORDS_API].story(user.identity, record_id)
    record = await request.app[RECORDS_API].show(user.identity, record_id)
    auditor = user.has(AUDITOR)
    reveals = (await request.app[REVEAL_API].reveals(user.identity, record_id)).data if auditor else []
    context: dict[str, Any] = {
        "record": record,
        "story": story,
        "turns": request_turns(record),
        "answer": answer_pieces(record),
        "slots": type_classes([*record.findings, *(p.type for p in record.positions), *record.masked_response]),
        "auditor": auditor,
        "reveals": reveals,
        "originals": originals,
        "refused": refused,
        "reason": reason,
    }
    # a reveal the API refused (no reason, no originals kept) is answered beside its form, as the console answers
    # a form's own mistakes: 200 (an error status would be a console error to the browser, not the user's mistake)
    return render(request, "sessions/record.html", user=user, title=f"Session {record.id}", **context)


async def one_session(request: web.Request) -> web.StreamResponse:
    return await _record_page(request, await console_user(request))


async def reveal(request: web.Request) -> web.StreamResponse:
    user, form = await console_form(request)
    reason = form_text(form, "reason")
    try:
        opened = await request.app[REVEAL_API].reveal(user.identity, request.match_info["id"], {"reason": reason})
    except ClearanceError as error:
        if error.http_status in (401, 403):
            raise  # not an auditor: the error page, and nothing about the record
        return await _record_page(request, user, refused=error, reason=reason)
    return await _record_page(request, user, originals=opened)


def register(router: web.UrlDispatcher) -> None:
    router.add_get(BASE, every_session)
    router.add_get(f"{BASE}/mine", my_sessions)
    router.add_get(f"{BASE}/export", export)
    router.add_get(f"{BASE}/{{id}}", one_session)
    router.add_post(f"{BASE}/{{id}}/reveal", reveal)
