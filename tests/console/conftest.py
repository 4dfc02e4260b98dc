"""Fixtures for the console's tests: a gateway whose console signs in at the real OpenID provider (``tests/oidc``),
and one without sign-in (the loopback mode)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.app import create_app
from clearance.config import GatewayConfig
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import gateway_config
from tests.oidc.harness import API, OidcProvider, ensure_node_modules, free_port, rsa_jwk

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "examples" / "policies" / "engineering-secrets-approval.yaml"
CONSOLE_CLIENT = "clearance-console"
ACCOUNTS: dict[str, Any] = {
    "alice": {
        "token_claims": {"groups": ["security"], "email": "alice@example.com"},
        "id_token_claims": {"email": "alice@example.com", "name": "Alice Approver", "groups": ["security"]},
    },
    "sam": {
        "token_claims": {"groups": ["engineering"], "email": "sam@example.com"},
        "id_token_claims": {"email": "sam@example.com", "name": "Sam Engineer", "groups": ["engineering"]},
    },
}


def console_client(redirect: str) -> dict[str, Any]:
    return {
        "client_id": CONSOLE_CLIENT,
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "redirect_uris": [redirect],
    }


@dataclass(frozen=True)
class SignInSetup:
    provider: OidcProvider
    port: int
    """The gateway's port: its callback is registered at the provider before the gateway starts."""

    @property
    def redirect_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/console/callback"


@pytest.fixture(scope="module")
def sign_in_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    ensure_node_modules()
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/console/callback"
    idp = OidcProvider(
        tmp_path_factory.mktemp("console-idp"),
        keys=[rsa_jwk("rsa-1")],
        accounts=ACCOUNTS,
        clients=[console_client(redirect)],
    )
    idp.start()
    yield SignInSetup(idp, port)
    idp.stop()


def oidc_config(tmp_path: Path, setup: SignInSetup, upstream: str, **console: Any) -> GatewayConfig:
    issuer = setup.provider.issuer
    return gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": upstream, "models": ["llama-internal"]}],
        policy={"file": str(POLICY)},
        auth={"issuers": [{"issuer": issuer, "audience": API}]},
        console={
            "oidc": {
                "issuer": issuer,
                "client_id": CONSOLE_CLIENT,
                "redirect_url": setup.redirect_url,
                "scopes": ["openid", "email", "profile", "groups"],
            },
            **console,
        },
    )


@pytest.fixture
async def signed_gateway(
    sign_in_setup: SignInSetup, fake_upstream: FakeUpstream, tmp_path: Path
) -> AsyncIterator[TestServer]:
    """The gateway on the port the provider redirects to, its console signing in there."""
    app = create_app(oidc_config(tmp_path, sign_in_setup, fake_upstream.base_url))
    server = TestServer(app, host="127.0.0.1", port=sign_in_setup.port)
    await server.start_server()
    yield server
    await server.close()


@pytest.fixture
async def loopback_gateway(fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[TestServer]:
    """No authentication anywhere: the console serves loopback callers as the anonymous caller."""
    config = gateway_config(tmp_path, [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["m"]}])
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    yield server
    await server.close()


def app_of(server: TestServer) -> web.Application:
    assert isinstance(server.app, web.Application)
    return server.app
