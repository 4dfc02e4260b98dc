"""The home page: who is signed in, their groups and roles, and the pages those roles open."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer

from clearance.console.testing import console_session
from clearance.models import Identity
from tests.console.conftest import app_of


async def page(server: TestServer, identity: Identity) -> str:
    cookies, _ = console_session(app_of(server), identity)
    async with aiohttp.ClientSession(cookies=cookies) as session, session.get(server.make_url("/console/")) as got:
        assert got.status == 200
        return await got.text()


async def test_when_an_approver_opens_home_then_their_roles_and_pages_show(signed_gateway: TestServer) -> None:
    text = await page(signed_gateway, Identity("alice", email="alice@example.com", groups=("security",)))
    assert 'data-signed-in="alice"' in text
    assert "approver, user" in text
    assert 'href="/console/policy"' in text
    assert 'href="/console/keys"' not in text
    assert 'action="/console/signout"' in text


async def test_when_the_policy_gives_no_role_then_home_says_so(signed_gateway: TestServer) -> None:
    text = await page(signed_gateway, Identity("nobody", groups=("finance",)))
    assert "the policy gives you no role" in text
    assert 'href="/console/approvals"' in text  # their own requests, if any


async def test_when_console_without_slash_is_asked_then_it_goes_home(signed_gateway: TestServer) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(signed_gateway.make_url("/console"), allow_redirects=False) as response,
    ):
        assert response.status == 302
        assert response.headers["Location"] == "/console/"
