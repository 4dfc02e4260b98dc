"""Signing in and out through the gateway's own routes, with the real provider playing its part over HTTP."""

from __future__ import annotations

import re

import aiohttp
from aiohttp.test_utils import TestServer

from clearance.console.session import COOKIE
from clearance.console.testing import console_session
from clearance.models import Identity
from tests.console.conftest import SignInSetup, app_of
from tests.oidc.harness import Browser


async def test_when_signing_in_then_the_console_greets_the_account_and_keeps_the_deep_link(
    signed_gateway: TestServer, sign_in_setup: SignInSetup
) -> None:
    browser = Browser(sign_in_setup.provider.issuer, "alice")
    try:
        page = await browser.authorize(str(signed_gateway.make_url("/console/?tab=x")))
        assert 'data-signed-in="alice"' in page
        cookies = {c.key: c for c in browser.session.cookie_jar}
        cookie = cookies[COOKIE]
        assert cookie["httponly"]
        assert cookie["samesite"] == "Lax"
        assert cookie["path"] == "/console"
        async with browser.session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as response:
            assert response.status == 200
    finally:
        await browser.close()


async def test_when_the_callback_has_no_sign_in_of_this_browser_then_it_is_refused(
    signed_gateway: TestServer,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(signed_gateway.make_url("/console/callback?code=abc&state=forged")) as response,
    ):
        assert response.status == 401
        page = await response.text()
    assert "sign in again" in page
    assert COOKIE not in response.cookies


async def test_when_signing_in_then_the_browser_is_sent_to_the_provider_with_pkce(
    signed_gateway: TestServer, sign_in_setup: SignInSetup
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(signed_gateway.make_url("/console/signin?next=//evil.example/"), allow_redirects=False) as response,
    ):
        assert response.status == 302
        location = response.headers["Location"]
    assert location.startswith(sign_in_setup.provider.issuer)
    assert "code_challenge_method=S256" in location


async def test_when_signing_out_then_the_session_is_cleared_only_with_the_forms_token(
    signed_gateway: TestServer,
) -> None:
    cookies, csrf = console_session(app_of(signed_gateway), Identity("alice", groups=("security",)))
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies for 127.0.0.1, and applies the server's deletion
    jar.update_cookies(cookies, signed_gateway.make_url("/console/"))
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.post(signed_gateway.make_url("/console/signout"), data={}) as refused:
            assert refused.status == 403
        async with session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as still:
            assert still.status == 200
        async with session.post(
            signed_gateway.make_url("/console/signout"), data={"csrf": csrf}, allow_redirects=False
        ) as response:
            assert response.status == 303
            assert response.headers["Location"] == "/console/signed-out"
            assert re.search(rf"{COOKIE}=(\"\")?;", response.headers["Set-Cookie"])
        async with session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as after:
            assert after.status == 302
            assert after.headers["Location"].startswith("/console/signin?next=")


async def test_when_signed_out_then_a_copy_of_the_cookie_taken_before_opens_nothing(
    signed_gateway: TestServer,
) -> None:
    cookies, csrf = console_session(app_of(signed_gateway), Identity("alice", groups=("security",)))
    async with aiohttp.ClientSession(cookies=cookies) as copy:
        async with copy.get(signed_gateway.make_url("/console/"), allow_redirects=False) as before:
            assert before.status == 200
        async with copy.post(
            signed_gateway.make_url("/console/signout"), data={"csrf": csrf}, allow_redirects=False
        ) as signed_out:
            assert signed_out.status == 303
    async with aiohttp.ClientSession(cookies=cookies) as stolen:  # the same cookie, replayed after the sign-out
        async with stolen.get(signed_gateway.make_url("/console/"), allow_redirects=False) as after:
            assert after.status == 302
            assert after.headers["Location"].startswith("/console/signin")
        async with stolen.post(signed_gateway.make_url("/console/signout"), data={"csrf": csrf}) as post:
            assert post.status == 401


async def test_when_signing_in_over_a_session_then_the_session_set_before_opens_nothing_after(
    signed_gateway: TestServer, sign_in_setup: SignInSetup
) -> None:
    # fixation: a session cookie the browser held before the sign-in (planted by someone, or the last user's on a
    # shared machine) must not survive it, nor any copy of it
    before, _csrf = console_session(app_of(signed_gateway), Identity("mallory", groups=("security",)))
    browser = Browser(sign_in_setup.provider.issuer, "alice")
    try:
        browser.session.cookie_jar.update_cookies(before, signed_gateway.make_url("/console/"))
        page = await browser.authorize(str(signed_gateway.make_url("/console/signin?next=/console/")))
        assert 'data-signed-in="alice"' in page
        now = {c.key: c.value for c in browser.session.cookie_jar}
        assert now[COOKIE] != before[COOKIE]
    finally:
        await browser.close()
    async with (
        aiohttp.ClientSession(cookies=before) as copy,
        copy.get(signed_gateway.make_url("/console/"), allow_redirects=False) as after,
    ):
        assert after.status == 302
        assert after.headers["Location"].startswith("/console/signin")
