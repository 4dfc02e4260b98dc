"""The API keys page: an admin lists keys, makes one (shown once, with a copy button, never again), revokes one
through a confirmation that works without scripts; a forged post (no CSRF token) changes nothing; nobody else
gets the page or its actions. Sessions come from ``clearance.console.testing``; the browser test signs in for real
(``tests/e2e/console/test_keys.py``)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import create_app
from clearance.auth.keys import ApiKeyStore
from clearance.config import GatewayConfig
from clearance.console.testing import console_session
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import admin_policy
from tests.conftest import gateway_config
from tests.console.conftest import CONSOLE_CLIENT, SignInSetup, app_of
from tests.oidc.harness import API

ADA = Identity("ada", email="ada@example.com", groups=("platform",))
"""The admin (``tests.admin.gateway.ADMIN_CLEARANCE``)."""
SAM = Identity("sam", email="sam@example.com", groups=("engineering",))
AUDREY = Identity("audrey", groups=("audit",))


def console_config(tmp_path: Path, setup: SignInSetup, upstream: str) -> GatewayConfig:
    """The example approval policy with an admin, API keys, and the console signing in at the real provider."""
    issuer = setup.provider.issuer
    return gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": upstream, "models": ["llama-internal"]}],
        policy={"file": str(admin_policy(tmp_path))},
        auth={"issuers": [{"issuer": issuer, "audience": API}], "api_keys": {"enabled": True}},
        console={"oidc": {"issuer": issuer, "client_id": CONSOLE_CLIENT, "redirect_url": setup.redirect_url}},
    )


@dataclass
class Console:
    server: TestServer
    database_url: str

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def client(self, identity: Identity) -> tuple[aiohttp.ClientSession, str]:
        cookies, csrf = console_session(app_of(self.server), identity)
        return aiohttp.ClientSession(cookies=cookies), csrf

    def stored(self) -> list[tuple[str, str, float | None]]:
        store = ApiKeyStore(self.database_url)
        try:
            return [(r.key_id, r.label, r.revoked_at) for r in store.list()]
        finally:
            store.close()

    def make(self, label: str, owner: str = "ci-bot") -> tuple[str, str]:
        store = ApiKeyStore(self.database_url)
        try:
            record, raw = store.create(owner=owner, groups=["engineering"], expires_at=None, label=label)
        finally:
            store.close()
        return record.key_id, raw


@pytest.fixture
async def console(sign_in_setup: SignInSetup, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Console]:
    config = console_config(tmp_path, sign_in_setup, fake_upstream.base_url)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield Console(server, config.database.url)
    finally:
        await server.close()


async def test_when_an_admin_opens_keys_then_each_key_is_listed_without_its_secret(console: Console) -> None:
    key_id, raw = console.make("nightly")
    session, _ = console.client(ADA)
    async with session, session.get(console.url("/console/keys")) as page:
        text = await page.text()

    assert page.status == 200
    assert f"<code>{key_id}</code>" in text
    assert "nightly" in text and "ci-bot" in text
    assert raw not in text and raw.split("_")[2] not in text
    assert f'action="/console/keys/{key_id}/revoke"' in text
    assert 'href="/console/keys" aria-current="page"' in text
    assert '<label for="key-name">' in text


async def test_when_there_are_no_keys_then_the_page_says_how_to_make_one(console: Console) -> None:
    session, _ = console.client(ADA)
    async with session, session.get(console.url("/console/keys")) as page:
        text = await page.text()
    assert "No API keys yet." in text


async def test_when_an_admin_makes_a_key_then_it_is_shown_once_and_works(console: Console) -> None:
    session, csrf = console.client(ADA)
    async with session:
        async with session.post(
            console.url("/console/keys"),
            data={"csrf": csrf, "name": "report bot", "groups": "engineering, oncall", "expires_in": "30d"},
        ) as made:
            text = await made.text()
        async with session.get(console.url("/console/keys")) as listed:
            listing = await listed.text()

    assert made.status == 201
    assert made.headers["Cache-Control"] == "no-store"
    found = re.search(r'<code id="new-key" class="secret">(clr_[0-9a-f]{12}_[A-Za-z0-9_-]{43})</code>', text)
    assert found is not None
    raw = found.group(1)
    assert 'data-copy="#new-key"' in text
    assert "it will not be shown again" in text
    assert raw not in listing
    assert [(label, revoked) for _, label, revoked in console.stored()] == [("report bot", None)]
    async with openai.AsyncOpenAI(base_url=console.url("/v1"), api_key=raw, max_retries=0) as client:
        answer = await client.chat.completions.create(
            model="llama-internal", messages=[{"role": "user", "content": "hello"}]
        )
    assert answer.choices[0].message.content


async def test_when_a_revoke_is_posted_without_confirming_then_it_asks_and_nothing_changes(console: Console) -> None:
    key_id, _ = console.make("keep me")
    session, csrf = console.client(ADA)
    async with session, session.post(console.url(f"/console/keys/{key_id}/revoke"), data={"csrf": csrf}) as asked:
        text = await asked.text()

    assert asked.status == 200
    assert '<input type="hidden" name="confirm" value="yes">' in text
    assert console.stored() == [(key_id, "keep me", None)]


async def test_when_the_revoke_is_confirmed_then_the_key_stops_working(console: Console) -> None:
    key_id, raw = console.make("old")
    session, csrf = console.client(ADA)
    async with session:
        async with session.get(console.url(f"/console/keys/{key_id}/revoke")) as confirm:
            assert confirm.status == 200
            assert "This cannot be undone." in await confirm.text()
        async with session.post(
            console.url(f"/console/keys/{key_id}/revoke"), data={"csrf": csrf, "confirm": "yes"}, allow_redirects=False
        ) as done:
            assert done.status == 303
            assert done.headers["Location"] == f"/console/keys?revoked={key_id}"
        async with session.get(console.url(done.headers["Location"])) as back:
            assert f"API key <code>{key_id}</code> is revoked" in await back.text()

    assert console.stored()[0][2] is not None
    async with openai.AsyncOpenAI(base_url=console.url("/v1"), api_key=raw, max_retries=0) as client:
        with pytest.raises(openai.AuthenticationError):
            await client.models.list()


@pytest.mark.parametrize("csrf", [None, "forged"])
async def test_when_a_post_lacks_this_sessions_csrf_token_then_403_and_nothing_changes(
    console: Console, csrf: str | None
) -> None:
    key_id, _ = console.make("target")
    session, _ = console.client(ADA)
    token = {} if csrf is None else {"csrf": csrf}
    async with session:
        async with session.post(console.url("/console/keys"), data={**token, "name": "sneaky"}) as made:
            assert made.status == 403
        async with session.post(
            console.url(f"/console/keys/{key_id}/revoke"), data={**token, "confirm": "yes"}
        ) as revoked:
            assert revoked.status == 403
            assert "csrf_failed" in await revoked.text()

    assert console.stored() == [(key_id, "target", None)]


@pytest.mark.parametrize("who", [SAM, AUDREY])
async def test_when_a_non_admin_tries_then_403_no_link_and_nothing_changes(console: Console, who: Identity) -> None:
    key_id, _ = console.make("target")
    session, csrf = console.client(who)
    async with session:
        async with session.get(console.url("/console/")) as home:
            assert 'href="/console/keys"' not in await home.text()
        async with session.get(console.url("/console/keys")) as page:
            assert page.status == 403
            assert "admin_role_required" in await page.text()
        async with session.post(console.url("/console/keys"), data={"csrf": csrf, "name": "mine"}) as made:
            assert made.status == 403
        async with session.post(
            console.url(f"/console/keys/{key_id}/revoke"), data={"csrf": csrf, "confirm": "yes"}
        ) as revoked:
            assert revoked.status == 403

    assert console.stored() == [(key_id, "target", None)]


async def test_when_the_form_is_wrong_then_400_says_what_and_no_key_is_made(console: Console) -> None:
    session, csrf = console.client(ADA)
    async with (
        session,
        session.post(console.url("/console/keys"), data={"csrf": csrf, "name": "x", "expires_in": "soon"}) as made,
    ):
        text = await made.text()

    assert made.status == 400
    assert "expires_in" in text
    assert console.stored() == []


async def test_when_an_unknown_key_is_to_be_revoked_then_404(console: Console) -> None:
    session, csrf = console.client(ADA)
    async with session:
        async with session.get(console.url("/console/keys/0123456789ab/revoke")) as page:
            assert page.status == 404
        async with session.post(
            console.url("/console/keys/0123456789ab/revoke"), data={"csrf": csrf, "confirm": "yes"}
        ) as post:
            assert post.status == 404
