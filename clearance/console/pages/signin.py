"""Signing in and out of the console.

- ``GET /console/signin?next=…``: to the provider's authorization endpoint (``clearance.console.signin``), with the
  sign-in's state in a short-lived signed cookie; without ``console.oidc``, straight to ``next``.
- ``GET /console/callback``: the provider's answer; a session cookie for the identity its ID token proves, then
  ``next``. A session cookie the browser held before is signed out with it (fixation). A refused or forged answer is
  an error page saying to sign in again.
- ``POST /console/signout`` (a form with the CSRF token): the session ended on the server (``SignOuts``: a copy of
  the cookie opens nothing after it) and the cookie cleared, then ``/console/signed-out``.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from clearance.console.access import CONSOLE, SESSION, ConsoleAccess, console_form, safe_next
from clearance.console.render import redirect, render
from clearance.console.security import PREFIX
from clearance.console.session import COOKIE, SIGN_IN_COOKIE, SIGN_IN_TIMEOUT, ConsoleSession

log = logging.getLogger("clearance.console")


async def sign_in(request: web.Request) -> web.StreamResponse:
    access = request.app[CONSOLE]
    next_path = safe_next(request.query.get("next"))
    if access.signin is None:
        return web.Response(status=302, headers={"Location": next_path})
    url, state = await access.signin.begin(next_path)
    response = web.Response(status=302, headers={"Location": url})
    response.set_cookie(
        SIGN_IN_COOKIE,
        access.codec.dump_sign_in(state),
        path=PREFIX,
        max_age=int(SIGN_IN_TIMEOUT),
        httponly=True,
        samesite="Lax",  # the provider's redirect back is a top-level GET: Lax cookies come with it
        secure=access.secure_cookies,
    )
    return response


async def callback(request: web.Request) -> web.StreamResponse:
    access = request.app[CONSOLE]
    if access.signin is None:
        return web.Response(status=302, headers={"Location": "/console/"})
    expected = access.codec.load_sign_in(request.cookies.get(SIGN_IN_COOKIE))
    identity = await access.signin.finish(request.query, expected)
    assert expected is not None  # finish refuses an answer without one
    # the session the browser held before (anyone's, planted or left on a shared machine) ends here, every copy of
    # it with it: only the new one, with a new id (and so a new CSRF token), comes out of a sign-in
    await _end(access, access.codec.load(request.cookies.get(COOKIE)))
    request[SESSION] = access.codec.new(identity)
    log.info("console sign-in", extra={"subject": identity.subject, "issuer": identity.issuer})
    response = redirect(expected.next)
    response.del_cookie(SIGN_IN_COOKIE, path=PREFIX)
    return response


async def _end(access: ConsoleAccess, session: ConsoleSession | None) -> None:
    """``session`` signed out on the server: a copy of its cookie taken before now opens nothing after it."""
    if session is not None and access.signouts is not None:
        ends_at = session.signed_in_at + access.codec.absolute_timeout
        await asyncio.to_thread(access.signouts.record, session.sid, ends_at=ends_at, now=access.codec.clock())


async def sign_out(request: web.Request) -> web.StreamResponse:
    user, _form = await console_form(request)
    access = request.app[CONSOLE]
    await _end(access, request[SESSION])
    log.info("console sign-out", extra={"subject": user.identity.subject})
    response = redirect("/console/signed-out")
    response.del_cookie(COOKIE, path=PREFIX)
    return response


async def signed_out(request: web.Request) -> web.StreamResponse:
    return render(request, "signed_out.html", user=None, title="Signed out")


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/console/signin", sign_in)
    router.add_get("/console/callback", callback)
    router.add_post("/console/signout", sign_out)
    router.add_get("/console/signed-out", signed_out)
