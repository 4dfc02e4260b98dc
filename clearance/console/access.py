"""Who is using the console, and whether they may: the session cookie (``clearance.console.session``), the roles
the policy gives its identity, and the CSRF check of every form.

Three modes, from the configuration:

- ``console.oidc`` set: a caller needs a session from the sign-in (``clearance.console.signin``); a page request
  without one is sent there, any other request is refused (401).
- no ``console.oidc`` and no authentication configured at all: loopback callers only, as the anonymous caller, as
  the data path serves them; the roles are the policy's for ``anonymous: true``. Their ``Host`` must name this
  machine too (``localhost``, a loopback address): a page whose name was pointed at 127.0.0.1 (DNS rebinding) is
  a loopback peer the browser treats as its own origin.
- no ``console.oidc`` but the gateway authenticates its callers: refused (403) with what to configure, since an
  anonymous console beside an authenticated API would be a way around it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from clearance.auth.authenticator import local_caller
from clearance.console.session import COOKIE, ConsoleSession, SessionCodec
from clearance.console.signin import OidcSignIn
from clearance.console.signouts import SignOuts
from clearance.exceptions import AuthenticationError, PayloadTooLarge, PermissionDenied, UnsupportedEncoding
from clearance.models import Identity
from clearance.policy import PolicyHolder

Mode = Literal["oidc", "loopback", "refused"]
Form = MultiDictProxy[str | bytes | bytearray | web.FileField]
SESSION: Final = web.RequestKey("console_session", ConsoleSession)
"""The session a request was served under: the response carries it back, last seen now."""
CSRF_FIELD: Final = "csrf"
CSRF_HEADER: Final = "X-CSRF-Token"
FORM_TYPE: Final = "application/x-www-form-urlencoded"
MAX_FORM_BYTES: Final = 64 * 1024
"""What a console form may weigh unless its page allows more: the API caps each operation's body; the gateway's own
``server.max_body_bytes`` is sized for model requests, not forms."""


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    """The signed-in caller as the pages see them."""

    identity: Identity
    roles: frozenset[str]
    csrf_token: str
    signed_in: bool
    """False in the loopback mode (nobody signs in or out)."""

    def has(self, role: str) -> bool:
        return role in self.roles

    @property
    def shown_name(self) -> str:
        return self.identity.name or self.identity.email or self.identity.subject


USER: Final = web.RequestKey("console_user", ConsoleUser)


@dataclass(frozen=True, slots=True)
class ConsoleAccess:
    codec: SessionCodec
    policy: PolicyHolder
    mode: Mode
    signin: OidcSignIn | None
    secure_cookies: bool
    """``Secure`` on the cookies: the sign-in's redirect URL is https."""
    signouts: SignOuts | None = None
    """The sessions signed out before their end (the sign-in mode only)."""


CONSOLE: Final = web.AppKey("console", ConsoleAccess)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a console path on this gateway, never another site (``//evil``, ``https:``)."""
    if not path or not path.startswith("/console") or path.startswith("//") or "\\" in path:
        return "/console/"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):  # a header injection, or a Location the server refuses
        return "/console/"
    return path


def sign_in_url(request: web.Request) -> str:
    return "/console/signin?" + urlencode({"next": safe_next(request.path_qs)})


async def _session(request: web.Request, access: ConsoleAccess) -> ConsoleSession:
    session = access.codec.load(request.cookies.get(COOKIE))
    if access.mode == "refused":
        raise PermissionDenied(
            "the console needs a sign-in when the gateway authenticates its callers: set console.oidc "
            "(docs/console.md)",
            code="console_sign_in_not_configured",
        )
    if access.mode == "loopback":
        # the Host too: a page whose name was pointed at 127.0.0.1 (DNS rebinding) is a loopback peer, same-origin
        # to the browser, and would read a page's CSRF token and post its forms
        if not local_caller(request.remote, request.headers.get("Host")):
            raise PermissionDenied(
                "without console.oidc the console serves loopback callers only: open it on the gateway's host as "
                "http://localhost:PORT/console/ or http://127.0.0.1:PORT/console/, or configure console.oidc "
                "(docs/console.md)",
                code="not_allowed_from_here",
            )
        if session is None or session.identity.kind != "anonymous":
            session = access.codec.new(Identity.anonymous())
        return session
    signouts = access.signouts
    if session is not None and signouts is not None and await asyncio.to_thread(signouts.signed_out, session.sid):
        session = None  # a copy of a cookie whose session signed out
    if session is None:
        if request.method == "GET" and "text/event-stream" not in request.headers.get("Accept", ""):
            raise web.HTTPFound(location=sign_in_url(request))
        raise AuthenticationError("your console session has ended: sign in again", code="console_session_ended")
    return session


async def console_user(request: web.Request) -> ConsoleUser:
    """The caller, with the roles the policy in force gives them. A page request without a session is redirected
    to the sign-in (``web.HTTPFound``); anything else without one gets 401."""
    if USER in request:
        return request[USER]
    access = request.app[CONSOLE]
    session = access.codec.seen(await _session(request, access))
    request[SESSION] = session
    user = ConsoleUser(
        identity=session.identity,
        roles=access.policy.policy.roles(session.identity),
        csrf_token=access.codec.csrf_token(session),
        signed_in=access.mode == "oidc",
    )
    request[USER] = user
    return user


async def console_form(request: web.Request, *, max_bytes: int = MAX_FORM_BYTES) -> tuple[ConsoleUser, Form]:
    """A form post's caller and fields, once its CSRF token (field ``csrf``, or the ``X-CSRF-Token`` header of a
    script's request) is this session's: otherwise 403 ``csrf_failed``, before anything is done. The body is read
    only when it is an urlencoded form (415 otherwise: a multipart one would spool its files) of at most
    ``max_bytes`` declared in its ``Content-Length`` (413 otherwise, before a byte is read)."""
    user = await console_user(request)
    if request.body_exists:
        length = request.content_length
        if length is None or length > max_bytes:
            raise PayloadTooLarge(
                f"a console form may be at most {max_bytes} bytes, sent with its length: shorten what you typed",
                code="form_too_large",
            )
        if request.content_type != FORM_TYPE:
            raise UnsupportedEncoding(
                f"a console form is sent as {FORM_TYPE}: send it from the console's page", code="form_not_urlencoded"
            )
    form = await request.post()
    sent = form.get(CSRF_FIELD)
    token = sent if isinstance(sent, str) else request.headers.get(CSRF_HEADER)
    if not request.app[CONSOLE].codec.csrf_ok(request[SESSION], token):
        raise PermissionDenied(
            "this form was not sent from this console session (its CSRF token is missing or wrong): reload the page "
            "and send it again",
            code="csrf_failed",
        )
    return user, form


def form_text(form: Form, name: str) -> str:
    """A text field of a form; empty when absent (a file or bytes is not text: empty too)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""
