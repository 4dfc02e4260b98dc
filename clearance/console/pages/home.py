"""``GET /console/``: who is signed in, with which groups and roles, and the pages those roles open."""

from __future__ import annotations

from aiohttp import web

from clearance.console.access import console_user
from clearance.console.render import render


async def home(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    return render(request, "home.html", user=user, title="Console")


async def to_home(_request: web.Request) -> web.StreamResponse:
    return web.Response(status=302, headers={"Location": "/console/"})


def register(router: web.UrlDispatcher) -> None:
    router.add_get("/console", to_home)
    router.add_get("/console/", home)
