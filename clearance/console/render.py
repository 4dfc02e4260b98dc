"""The console's pages from Jinja2 templates (``clearance/console/templates``), autoescaped.

``render`` fills a page in the layout (``base.html``: the navigation the caller's roles show, who is signed in, the
sign-out form); ``render_fragment`` an HTML fragment a script swaps into a page. Templates get ``user``, ``title``,
``nav``, ``current`` (the path) and whatever the handler passes, plus the filters ``when`` (seconds since the epoch
as a UTC time) and ``iso`` (the same as ISO 8601, for ``<time datetime>``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from clearance.console.access import ConsoleUser
from clearance.console.nav import shown

HTML: Final = "text/html"


def _moment(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def when(seconds: float | None) -> str:
    moment = _moment(seconds)
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(seconds: float | None) -> str:
    moment = _moment(seconds)
    return "" if moment is None else moment.isoformat().replace("+00:00", "Z")


def build_templates() -> Environment:
    env = Environment(
        loader=PackageLoader("clearance.console", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["iso"] = iso
    return env


TEMPLATES: Final = web.AppKey("console_templates", Environment)


def _html(request: web.Request, template: str, context: dict[str, Any]) -> str:
    return str(request.app[TEMPLATES].get_template(template).render(**context))


def render(
    request: web.Request,
    template: str,
    *,
    user: ConsoleUser | None,
    title: str,
    status: int = 200,
    **context: Any,
) -> web.Response:
    """A whole page: ``template`` extends ``base.html``."""
    page = {
        "user": user,
        "title": title,
        "nav": shown(user.roles) if user is not None else (),
        "current": request.path,
        **context,
    }
    return web.Response(text=_html(request, template, page), status=status, content_type=HTML)


def render_fragment(
    request: web.Request, template: str, *, user: ConsoleUser | None, status: int = 200, **context: Any
) -> web.Response:
    """A piece of a page (no layout), for a script to swap in."""
    return web.Response(text=_html(request, template, {"user": user, **context}), status=status, content_type=HTML)


def redirect(location: str) -> web.Response:
    """303 See Other: where a form post goes next (the browser GETs it; a reload does not post again)."""
    return web.Response(status=303, headers={"Location": location})
