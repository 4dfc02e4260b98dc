"""Identity in the data path: the gateway in front of a real OpenID provider and its own API keys."""

from __future__ import annotations

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.auth.keys import ApiKeyStore
from clearance.testing.fake_upstream import FakeUpstream
from tests.auth.conftest import OTHER_API
from tests.conftest import GatewayFactory, RunningGateway
from tests.oidc.harness import API, OidcProvider

CHAT: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@pytest.fixture
async def authed_gateway(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, provider: OidcProvider
) -> RunningGateway:
    return await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        auth={"issuers": [{"issuer": provider.issuer, "audience": API}], "api_keys": {"enabled": True}},
    )


async def test_valid_token_is_accepted_and_recorded_and_never_forwarded(
    authed_gateway: RunningGateway, fake_upstream: FakeUpstream, provider: OidcProvider
) -> None:
    token = await provider.client_credentials("svc", resource=API)
    async with openai.AsyncOpenAI(base_url=authed_gateway.base_url, api_key=token, max_retries=0) as sdk:
        reply = await sdk.chat.completions.create(model="fake-model", messages=CHAT)
    assert reply.choices[0].message.content == fake_upstream.behaviour.reply
    assert token not in fake_upstream.received[0].headers.get("Authorization", "")
    [record] = await authed_gateway.records()
    assert record["subject"] == "svc"


@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "missing_credentials"), ("Bearer not.a.jwt", "malformed_token"), ("Basic dXNlcjpwYXNz", "malformed_token")],
)
async def test_when_credentials_are_missing_or_bad_then_401_before_anything_else(
    authed_gateway: RunningGateway, fake_upstream: FakeUpstream, authorization: str | None, code: str
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with (
        aiohttp.ClientSession() as s,
        s.post(authed_gateway.base_url + "/chat/completions", data=b"{broken json", headers=headers) as r,
    ):
        body = await r.json()
        assert r.status == 401
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert body["error"]["type"] == "authentication_error"
    assert body["error"]["code"] == code
    assert "not.a.jwt" not in str(body)
    assert fake_upstream.received == []
    [record] = await authed_gateway.records()
    assert record["status"] == 401


async def test_token_for_another_audience_is_refused(authed_gateway: RunningGateway, provider: OidcProvider) -> None:
    token = await provider.client_credentials("svc", resource=OTHER_API)
    async with openai.AsyncOpenAI(base_url=authed_gateway.base_url, api_key=token, max_retries=0) as sdk:
        with pytest.raises(openai.AuthenticationError, match="audience"):
            await sdk.chat.completions.create(model="fake-model", messages=CHAT)


async def test_gateway_api_key_works_and_revocation_is_immediate(authed_gateway: RunningGateway) -> None:
    store = ApiKeyStore(authed_gateway.config.database.url)
    record, key = store.create(owner="ci-bot", groups=["robots"], expires_at=None)
    async with openai.AsyncOpenAI(base_url=authed_gateway.base_url, api_key=key, max_retries=0) as sdk:
        await sdk.chat.completions.create(model="fake-model", messages=CHAT)
        assert store.revoke(record.key_id)
        with pytest.raises(openai.AuthenticationError):
            await sdk.chat.completions.create(model="fake-model", messages=CHAT)
    store.close()
    subjects = [r["subject"] for r in await authed_gateway.records()]
    assert subjects[-1] == "ci-bot"
