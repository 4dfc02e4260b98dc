"""The CLI's OAuth client against the real provider: device grant, PKCE fallback, refresh."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import jwt
import pytest

from clearance.auth import IssuerConfig
from clearance.cli import oauth_flows
from clearance.cli.login import run_login
from clearance.cli.oauth_flows import DevicePrompt, LoginError, LoginRequest
from tests.auth.conftest import AuthFactory, bearer
from tests.oidc.harness import API, Browser, OidcProvider

SCOPE = "openid profile email groups offline_access api"


def request_for(idp: OidcProvider, client_id: str = "cli", **extra: Any) -> LoginRequest:
    return dataclasses.replace(LoginRequest(issuer=idp.issuer, client_id=client_id, scope=SCOPE, resource=API), **extra)


def user(idp: OidcProvider) -> Browser:
    return Browser(idp.issuer, login="alice")


async def test_when_the_user_approves_the_device_code_then_the_gateway_accepts_the_token_as_alice(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    browser = user(provider)
    shown: list[DevicePrompt] = []

    async def show(prompt: DevicePrompt) -> None:
        shown.append(prompt)
        page = await browser.approve_device(prompt.verification_uri, prompt.user_code)
        assert "Sign-in Success" in page

    try:
        stored = await run_login(request_for(provider), method="device", show=show, poll_interval=0.1)
    finally:
        await browser.close()

    assert shown and shown[0].verification_uri.startswith(provider.issuer)
    assert stored.refresh_token is not None
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))
    identity = await auth.authenticate(bearer(stored.access_token), "127.0.0.1")
    assert (identity.subject, identity.kind, identity.email) == ("alice", "user", "alice@example.com")
    assert identity.groups == ("eng", "finance")


async def test_when_the_user_declines_the_device_code_then_login_fails_saying_so(provider: OidcProvider) -> None:
    browser = user(provider)

    async def decline(prompt: DevicePrompt) -> None:
        async with browser.session.get(prompt.verification_uri) as resp:
            page = await resp.text()
        xsrf = page.split('name="xsrf" value="')[1].split('"')[0]
        form = {"xsrf": xsrf, "user_code": prompt.user_code, "abort": "yes"}
        async with browser.session.post(prompt.verification_uri, data=form) as resp:
            assert resp.status == 200

    try:
        with pytest.raises(LoginError, match="declined"):
            await run_login(request_for(provider), method="device", show=decline, poll_interval=0.1)
    finally:
        await browser.close()


async def test_when_the_device_grant_is_refused_then_login_falls_back_to_pkce_in_the_browser(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    browser = user(provider)
    opened: list[str] = []

    async def open_browser(url: str) -> None:
        opened.append(url)
        page = await browser.authorize(url)
        assert "Signed in" in page  # the CLI's loopback listener answered the redirect

    try:
        stored = await run_login(
            request_for(provider, "cli-browser", extra_params={"prompt": "consent"}),
            method="auto",
            show=None,
            open_browser=open_browser,
        )
    finally:
        await browser.close()

    query = parse_qs(urlsplit(opened[0]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
    assert "code_verifier" not in query
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))
    assert (await auth.authenticate(bearer(stored.access_token), None)).subject == "alice"
    assert stored.id_token is not None and jwt.decode(stored.id_token, options={"verify_signature": False})["aud"] == (
        "cli-browser"
    )


async def test_when_the_redirect_carries_another_state_then_the_code_is_not_used(provider: OidcProvider) -> None:
    async def forged_redirect(url: str) -> None:
        redirect_uri = parse_qs(urlsplit(url).query)["redirect_uri"][0]
        async with aiohttp.ClientSession() as session, session.get(f"{redirect_uri}?code=stolen&state=forged") as resp:
            assert resp.status == 200

    async with aiohttp.ClientSession() as session:
        endpoints = await oauth_flows.discover(session, provider.issuer)
        with pytest.raises(LoginError, match="state"):
            await oauth_flows.authorization_code_flow(session, request_for(provider), endpoints, forged_redirect)


async def test_when_the_token_is_near_expiry_then_it_is_refreshed_with_the_refresh_token(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    browser = user(provider)

    async def show(prompt: DevicePrompt) -> None:
        await browser.approve_device(prompt.verification_uri, prompt.user_code)

    try:
        stored = await run_login(request_for(provider), method="device", show=show, poll_interval=0.1)
    finally:
        await browser.close()

    async with aiohttp.ClientSession() as session:
        same, renewed = await oauth_flows.current_token(session, stored)
        assert (same, renewed) == (stored.access_token, None)  # fresh: no refresh
        stored.expires_at = 0  # as if it had expired
        fresh, renewed = await oauth_flows.current_token(session, stored)

    assert renewed is not None and fresh == renewed.access_token != stored.access_token
    assert renewed.refresh_token is not None
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))
    assert (await auth.authenticate(bearer(fresh), None)).subject == "alice"


async def test_when_there_is_no_refresh_token_then_an_expired_login_says_to_log_in_again(
    provider: OidcProvider,
) -> None:
    async with aiohttp.ClientSession() as session:
        endpoints = await oauth_flows.discover(session, provider.issuer)
        stored = oauth_flows.stored_login(
            request_for(provider), endpoints, {"access_token": "a.b.c", "expires_in": 0}, now=0
        )
        with pytest.raises(LoginError, match="clearance login"):
            await oauth_flows.current_token(session, stored)


async def test_when_the_issuer_is_wrong_then_discovery_says_to_check_it() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(LoginError, match="--issuer"):
            await oauth_flows.discover(session, "http://127.0.0.1:9")
