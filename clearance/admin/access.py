"""Who may call the admin API at all: every route authenticates its caller exactly as the data path does (the
gateway's authenticator: an OIDC token or a ``clr_`` key) and refuses an anonymous one with 401. What each caller
may then see or do is each resource's rule (the policy's roles: ``approver``, ``auditor``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

from aiohttp import web

from clearance.exceptions import AuthenticationError
from clearance.models import Identity

Authenticate = Callable[[web.Request], Awaitable[Identity]]

APPROVER: Final = "approver"
AUDITOR: Final = "auditor"
ADMIN: Final = "admin"
"""The policy's roles the admin API checks (``clearance.policy.schema.Role``): every operation and the console's
navigation name them from here."""


async def signed_in(authenticate: Authenticate, request: web.Request) -> Identity:
    """The caller's identity; ``missing_credentials`` (401) for an anonymous one (no credentials were sent, or auth
    is off and the caller is on loopback: the admin API always wants to know who acts)."""
    identity = await authenticate(request)
    if identity.kind == "anonymous":
        raise AuthenticationError(
            "the admin API needs credentials: send Authorization: Bearer with a token (`clearance token`) "
            "or an API key",
            code="missing_credentials",
        )
    return identity
