"""What every console response carries, and how a console handler's error becomes a page.

- Headers: a Content-Security-Policy with no ``unsafe-inline`` and nothing from another origin (scripts, styles,
  images, connections and form targets from the gateway only; no framing), ``nosniff``, no referrer to other sites,
  and ``Cache-Control: no-store`` on pages (what a console page shows must not stay in a shared cache).
- The session cookie, re-issued on every response with the time the caller was last seen (the idle timeout counts
  from it): ``HttpOnly``, ``SameSite=Lax``, ``Secure`` behind HTTPS, path ``/console``.
- Errors: a ``ClearanceError`` from a console handler is an error page with its status, code and message (what to
  do next); a redirect raised (to the sign-in) is answered as one.

Both hook the whole app but touch only paths under ``/console``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Final

from aiohttp import web

from clearance.console.access import CONSOLE, SESSION, USER
from clearance.console.render import render
from clearance.console.session import COOKIE
from clearance.exceptions import ClearanceError

log = logging.getLogger("clearance.console")

PREFIX: Final = "/console"
STATIC: Final = "/console/static/"
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_console(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


async def console_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: the headers and the session cookie, set before anything is sent (streams too)."""
    if not is_console(request.path):
        return
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith(STATIC):
        response.headers["Cache-Control"] = "no-store"
    session = request.get(SESSION)
    if session is not None and COOKIE not in response.cookies:  # a sign-out has cleared it
        access = request.app[CONSOLE]
        # the response's own cookies are already in its headers when this hook runs: add the header itself
        jar: SimpleCookie = SimpleCookie()
        jar[COOKIE] = access.codec.dump(session)
        morsel = jar[COOKIE]
        morsel["path"] = PREFIX
        morsel["httponly"] = True
        morsel["samesite"] = "Lax"
        morsel["secure"] = access.secure_cookies
        response.headers.add("Set-Cookie", morsel.OutputString())


@web.middleware
async def console_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_console(request.path):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPMove as redirect:
        return web.Response(status=redirect.status, headers={"Location": str(redirect.location)})
    except ClearanceError as error:
        log.info("console request refused", extra={"path": request.path, "code": error.code})
        return render(
            request,
            "error.html",
            user=request.get(USER),
            title="Not possible",
            status=error.http_status,
            error=error,
        )
