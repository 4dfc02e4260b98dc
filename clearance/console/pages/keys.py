"""``/console/keys``: the gateway's API keys, for admins (``clearance.admin.keys``' operations, so its role check).

- ``GET /console/keys``: every key (id, name, owner, groups, status, created, expires, last used) and a form to
  make one.
- ``POST /console/keys``: make a key and answer with a page that shows it, this once, with a copy button (and as
  selectable text without scripts), saying it will not be shown again. The one form that is not answered with a
  redirect: the key may not travel in a URL, a cookie or the session, so only this response holds it (no-store).
- ``GET /console/keys/{id}/revoke``: asks to confirm (works without scripts); ``POST`` there revokes once the form
  carries ``confirm=yes`` (the confirmation page's form; with scripts, the list's button after a dialog), then goes
  back to the list (303). Without ``confirm=yes`` the post shows the confirmation page and changes nothing.
"""

from __future__ import annotations

from typing import Final

from aiohttp import web

from clearance.admin.keys import KEYS_API, KeyResource, new_key_body
from clearance.console.access import console_form, console_user, form_text
from clearance.console.render import redirect, render
from clearance.exceptions import NotFound

PATH: Final = "/console/keys"
EXPIRIES: Final = (("30d", "30 days"), ("90d", "90 days"), ("365d", "a year"), ("never", "never"))


async def keys_page(request: web.Request) -> web.StreamResponse:
    user = await console_user(request)
    page = await request.app[KEYS_API].list_keys(user.identity)
    revoked = request.query.get("revoked", "")
    return render(
        request,
        "keys/list.html",
        user=user,
        title="API keys",
        keys=page.data,
        expiries=EXPIRIES,
        revoked=revoked if any(k.id == revoked for k in page.data) else "",
    )


async def create(request: web.Request) -> web.StreamResponse:
    user, form = await console_form(request)
    groups = [g.strip() for g in form_text(form, "groups").replace("\n", ",").split(",") if g.strip()]
    body = {"name": form_text(form, "name"), "groups": groups, "expires_in": form_text(form, "expires_in") or "90d"}
    if owner := form_text(form, "owner").strip():
        body["owner"] = owner
    made = await request.app[KEYS_API].create_key(user.identity, new_key_body(body))
    return render(request, "keys/created.html", user=user, title="API key created", key=made, status=201)


async def _key(request: web.Request, key_id: str) -> KeyResource:
    user = await console_user(request)
    for key in (await request.app[KEYS_API].list_keys(user.identity)).data:
        if key.id == key_id:
            return key
    raise NotFound("there is no API key with this id: go back to the list", code="api_key_not_found")


async def confirm_revoke(request: web.Request) -> web.StreamResponse:
    key = await _key(request, request.match_info["id"])
    return render(request, "keys/revoke.html", user=await console_user(request), title="Revoke an API key", key=key)


async def revoke(request: web.Request) -> web.StreamResponse:
    user, form = await console_form(request)
    key_id = request.match_info["id"]
    if form_text(form, "confirm") != "yes":
        key = await _key(request, key_id)
        return render(request, "keys/revoke.html", user=user, title="Revoke an API key", key=key)
    await request.app[KEYS_API].revoke_key(user.identity, key_id)
    return redirect(f"{PATH}?revoked={key_id}")


def register(router: web.UrlDispatcher) -> None:
    router.add_get(PATH, keys_page)
    router.add_post(PATH, create)
    router.add_get(f"{PATH}/{{id}}/revoke", confirm_revoke)
    router.add_post(f"{PATH}/{{id}}/revoke", revoke)
