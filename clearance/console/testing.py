"""For tests of console pages: a signed-in session without going through a provider (the browser tests in
``tests/e2e/console`` sign in for real)."""

from __future__ import annotations

from aiohttp import web

from clearance.console.access import CONSOLE
from clearance.console.session import COOKIE
from clearance.models import Identity


def console_session(app: web.Application, identity: Identity) -> tuple[dict[str, str], str]:
    """The cookies of a console session for ``identity`` on ``app``, as the sign-in would set them, and that
    session's CSRF token (the ``csrf`` field of its forms)."""
    codec = app[CONSOLE].codec
    session = codec.new(identity)
    return {COOKIE: codec.dump(session)}, codec.csrf_token(session)
