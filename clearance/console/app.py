"""``install_console``: the web console on the gateway's own app, under ``/console`` (docs/console.md).

It adds the session and sign-in (``access``, ``signin``), the templates, the response headers and error pages
(``security``), the static files, and each page area of ``PAGES``. The pages call the admin API's operations with
the console user's identity, so every role check is the API's own.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from types import ModuleType
from typing import Final

from aiohttp import web

from clearance.auth.authenticator import Authenticator
from clearance.config import GatewayConfig
from clearance.console.access import CONSOLE, ConsoleAccess, Mode
from clearance.console.pages import approvals, home, keys, overview, policy, sessions, signin
from clearance.console.render import TEMPLATES, build_templates
from clearance.console.security import console_errors, console_headers
from clearance.console.session import SessionCodec
from clearance.console.signin import OidcSignIn
from clearance.console.signouts import SignOuts
from clearance.exceptions import UnknownRoute
from clearance.policy import PolicyHolder

log = logging.getLogger("clearance.console")

STATIC_DIR: Final = Path(__file__).parent / "static"
PAGES: Final[tuple[ModuleType, ...]] = (home, signin, overview, approvals, sessions, policy, keys)
"""Each page area's module: ``register(router)`` adds its routes."""


def install_console(
    app: web.Application,
    config: GatewayConfig,
    *,
    authenticator: Authenticator,
    policy: PolicyHolder,
    clock: Callable[[], float],
) -> None:
    """Serve the console on ``app`` (nothing when ``console.enabled`` is false). Call before the app's catch-all
    route is added."""
    settings = config.console
    if not settings.enabled:
        return
    if settings.session.secret is not None:
        secret = settings.session.secret.resolve()
    else:
        secret = secrets.token_urlsafe(48)
        log.warning(
            "console.session.secret is not set: console sessions are signed with a key made at start, so they end "
            "when the gateway restarts and do not carry across instances"
        )
    mode: Mode = "oidc" if settings.oidc is not None else "refused" if authenticator.configured else "loopback"
    signin_client = (
        OidcSignIn(settings.oidc, authenticator.identify_id_token, clock=clock) if settings.oidc is not None else None
    )
    codec = SessionCodec(
        secret,
        idle_timeout=settings.session.idle_timeout,
        absolute_timeout=settings.session.absolute_timeout,
        clock=clock,
    )
    secure = settings.oidc is not None and settings.oidc.redirect_url.startswith("https://")
    signouts = SignOuts(config.database.url) if signin_client is not None else None
    app[CONSOLE] = ConsoleAccess(
        codec=codec, policy=policy, mode=mode, signin=signin_client, secure_cookies=secure, signouts=signouts
    )
    app[TEMPLATES] = build_templates()
    app.middlewares.append(console_errors)
    app.on_response_prepare.append(console_headers)

    if signin_client is not None and signouts is not None:
        client, ended = signin_client, signouts

        async def lifespan(_app: web.Application) -> AsyncIterator[None]:
            await client.start()
            yield
            await client.close()
            ended.close()

        app.cleanup_ctx.append(lifespan)

    app.router.add_static("/console/static", STATIC_DIR, append_version=False)
    for page in PAGES:
        page.register(app.router)
    app.router.add_route("*", "/console/{tail:.*}", _no_such_page)


async def _no_such_page(_request: web.Request) -> web.StreamResponse:
    raise UnknownRoute("there is no such console page: start from /console/")
