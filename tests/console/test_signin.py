"""The console's OIDC client against the real provider (``tests/oidc``): PKCE, state and nonce are sent, the answer
is checked against them, and the ID token becomes the identity the API would see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import pytest
from aiohttp import web

from clearance.auth.authenticator import Authenticator
from clearance.auth.config import AuthConfig
from clearance.auth.pkce import challenge_of
from clearance.config import ConsoleOidcConfig
from clearance.console.session import SignInState
from clearance.console.signin import OidcSignIn
from clearance.exceptions import AuthenticationError, ServiceUnavailable
from clearance.models import Identity
from tests.console.conftest import CONSOLE_CLIENT, SignInSetup
from tests.oidc.harness import API, Browser, free_port


@pytest.fixture
async def answers(sign_in_setup: SignInSetup) -> AsyncIterator[list[dict[str, str]]]:
    """What the provider sends back to the redirect URL (a listener in the gateway's place)."""
    seen: list[dict[str, str]] = []

    async def callback(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/console/callback", callback)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", sign_in_setup.port).start()
    yield seen
    await runner.cleanup()


@pytest.fixture
async def client(sign_in_setup: SignInSetup) -> AsyncIterator[OidcSignIn]:
    issuer = sign_in_setup.provider.issuer
    authenticator = Authenticator(AuthConfig.model_validate({"issuers": [{"issuer": issuer, "audience": API}]}))
    await authenticator.start()
    config = ConsoleOidcConfig(
        issuer=issuer,
        client_id=CONSOLE_CLIENT,
        redirect_url=sign_in_setup.redirect_url,
        scopes=("openid", "email", "profile", "groups"),
    )
    sign_in = OidcSignIn(config, authenticator.identify_id_token, clock=lambda: 0.0)
    await sign_in.start()
    yield sign_in
    await sign_in.close()
    await authenticator.close()


async def provider_answer(sign_in_setup: SignInSetup, url: str, seen: list[dict[str, str]], who: str) -> dict[str, str]:
    browser = Browser(sign_in_setup.provider.issuer, who)
    try:
        await browser.authorize(url)
    finally:
        await browser.close()
    assert len(seen) == 1
    return seen.pop()


async def test_when_beginning_then_the_request_carries_pkce_state_and_nonce(client: OidcSignIn) -> None:
    url, state = await client.begin("/console/approvals")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == CONSOLE_CLIENT
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == challenge_of(state.verifier)
    assert query["state"] == state.state
    assert query["nonce"] == state.nonce
    assert state.verifier not in url
    assert state.next == "/console/approvals"


async def test_when_the_provider_answers_then_the_id_token_makes_the_identity(
    client: OidcSignIn, sign_in_setup: SignInSetup, answers: list[dict[str, str]]
) -> None:
    url, state = await client.begin("/console/")
    answer = await provider_answer(sign_in_setup, url, answers, "alice")
    identity = await client.finish(answer, state)
    assert identity.subject == "alice"
    assert identity.email == "alice@example.com"
    assert identity.groups == ("security",)
    assert identity.issuer == sign_in_setup.provider.issuer
    assert identity.kind == "user"


async def test_when_the_answer_is_for_another_sign_in_then_it_is_refused(
    client: OidcSignIn, sign_in_setup: SignInSetup, answers: list[dict[str, str]]
) -> None:
    url, _state = await client.begin("/console/")
    _other_url, other = await client.begin("/console/")
    answer = await provider_answer(sign_in_setup, url, answers, "alice")
    with pytest.raises(AuthenticationError) as refused:
        await client.finish(answer, other)
    assert refused.value.code == "sign_in_failed"
    with pytest.raises(AuthenticationError):
        await client.finish(answer, None)


async def test_when_the_nonce_is_not_this_sign_ins_then_the_id_token_is_refused(
    client: OidcSignIn, sign_in_setup: SignInSetup, answers: list[dict[str, str]]
) -> None:
    url, state = await client.begin("/console/")
    answer = await provider_answer(sign_in_setup, url, answers, "alice")
    replayed = SignInState(state.state, "another-nonce", state.verifier, state.next, state.started_at)
    with pytest.raises(AuthenticationError, match="nonce"):
        await client.finish(answer, replayed)


async def test_when_the_code_is_redeemed_twice_or_without_its_verifier_then_the_provider_refuses(
    client: OidcSignIn, sign_in_setup: SignInSetup, answers: list[dict[str, str]]
) -> None:
    url, state = await client.begin("/console/")
    answer = await provider_answer(sign_in_setup, url, answers, "sam")
    wrong_verifier = SignInState(state.state, state.nonce, "x" * 64, state.next, state.started_at)
    with pytest.raises(AuthenticationError, match="refused the authorization code"):
        await client.finish(answer, wrong_verifier)
    url, state = await client.begin("/console/")
    answer = await provider_answer(sign_in_setup, url, answers, "sam")
    assert (await client.finish(answer, state)).subject == "sam"
    with pytest.raises(AuthenticationError, match="refused the authorization code"):
        await client.finish(answer, state)


async def test_when_the_provider_reports_an_error_then_the_sign_in_fails_with_its_code(client: OidcSignIn) -> None:
    _url, state = await client.begin("/console/")
    with pytest.raises(AuthenticationError, match="access_denied"):
        await client.finish({"error": "access_denied", "state": state.state}, state)
    with pytest.raises(AuthenticationError, match="no authorization code"):
        await client.finish({"state": state.state}, state)


async def test_when_the_provider_cannot_be_reached_then_the_sign_in_is_unavailable() -> None:
    issuer = f"http://127.0.0.1:{free_port()}"
    config = ConsoleOidcConfig(
        issuer=issuer, client_id="c", redirect_url="http://127.0.0.1:1/console/callback", scopes=("openid",)
    )

    async def never(*_args: object, **_kwargs: object) -> Identity:
        raise AssertionError("no token to verify")

    sign_in = OidcSignIn(config, never, clock=lambda: 0.0)
    with pytest.raises(ServiceUnavailable, match="not started"):
        await sign_in.begin("/console/")
    await sign_in.start()
    try:
        with pytest.raises(ServiceUnavailable) as unavailable:
            await sign_in.begin("/console/")
        assert unavailable.value.code == "identity_provider_unavailable"
    finally:
        await sign_in.close()
