"""Fixtures for the identity tests: a real OpenID provider on loopback, and authenticators in front of it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clearance.auth import AuthConfig, Authenticator, IssuerConfig, JwksConfig
from tests.oidc.harness import API, SVC_SECRET, OidcProvider, ec_jwk, ensure_node_modules, rsa_jwk

OTHER_API = "https://other.clearance.test"
ES_API = "https://es.clearance.test"

# Client-credentials clients whose tokens carry one shape of groups claim each (see provider.mjs).
CLIENT_CLAIMS: dict[str, dict[str, Any]] = {
    "svc": {"groups": ["robots", "g-0001"]},
    "svc-csv": {"groups": "alpha, beta,,gamma"},
    "svc-ns": {"https://example.com/groups": ["ns-a", "ns-b"]},
    "svc-nested": {"realm_access": {"roles": ["nested-a"]}},
    "svc-bad": {"groups": {"not": "a list"}},
    "svc-none": {},
    "svc-overage": {
        "_claim_names": {"groups": "src1"},
        "_claim_sources": {"src1": {"endpoint": "https://graph.example/v1.0/users/x/getMemberObjects"}},
        "email": "overage@example.com",
    },
    "svc-roles": {"roles": ["Reader", "Writer"], "groups": ["g-0001"]},
    "svc-google": {"hd": "example.com", "email": "gina@example.com"},
    "svc-otherdomain": {"hd": "elsewhere.org", "email": "oscar@elsewhere.org"},
    "svc-azp": {"azp": "trusted-app"},
}

ACCOUNTS = {
    "alice": {
        "token_claims": {"groups": ["eng", "finance"], "email": "alice@example.com", "name": "Alice Liddell"},
        "id_token_claims": {"email": "alice@example.com", "name": "Alice Liddell", "groups": ["eng", "finance"]},
    }
}


def service_clients() -> list[dict[str, Any]]:
    return [
        {
            "client_id": client_id,
            "client_secret": SVC_SECRET,
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
        }
        for client_id in CLIENT_CLAIMS
    ]


def cli_client() -> dict[str, Any]:
    return {
        "client_id": "cli",
        "token_endpoint_auth_method": "none",
        "application_type": "native",
        "grant_types": ["urn:ietf:params:oauth:grant-type:device_code", "authorization_code", "refresh_token"],
        "response_types": ["code"],
        "redirect_uris": ["http://127.0.0.1/callback"],
    }


def browser_only_client() -> dict[str, Any]:
    """A CLI client the provider will not run the device grant for: login falls back to the browser."""
    return cli_client() | {"client_id": "cli-browser", "grant_types": ["authorization_code", "refresh_token"]}


def make_provider(workdir: Path, keys: list[dict[str, Any]]) -> OidcProvider:
    return OidcProvider(
        workdir,
        keys=keys,
        accounts=ACCOUNTS,
        client_claims=CLIENT_CLAIMS,
        clients=[*service_clients(), cli_client(), browser_only_client()],
        resources={
            API: {"scope": "api"},
            OTHER_API: {"scope": "api"},
            ES_API: {"scope": "api", "audience": API, "alg": "ES256"},
        },
    )


@pytest.fixture(scope="session")
def node_modules() -> None:
    ensure_node_modules()


@pytest.fixture(scope="module")
def provider(node_modules: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A provider shared by a module's tests that do not stop or rotate it. Its RSA key has no ``alg``."""
    idp = make_provider(tmp_path_factory.mktemp("idp"), [rsa_jwk("rsa-1"), ec_jwk("ec-1")])
    idp.start()
    yield idp
    idp.stop()


@pytest.fixture
def own_provider(node_modules: None, tmp_path: Path) -> Iterator[OidcProvider]:
    """A provider of this test's own, to stop, restart or rotate."""
    idp = make_provider(tmp_path, [rsa_jwk("rsa-1")])
    idp.start()
    yield idp
    idp.stop()


class FakeClock:
    """Seconds that only move when the test says so (for refresh cooldowns and token times)."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


AuthFactory = Callable[..., Awaitable[Authenticator]]


@pytest.fixture
async def make_authenticator() -> AsyncIterator[AuthFactory]:
    """Builds and starts authenticators; closes them all at the end of the test."""
    started: list[Authenticator] = []

    async def build(
        *issuers: IssuerConfig,
        jwks: JwksConfig | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        warm_up: bool = True,
    ) -> Authenticator:
        config = AuthConfig(issuers=issuers, jwks=jwks or JwksConfig())
        auth = Authenticator(config, clock=clock, monotonic=monotonic)
        await auth.start(warm_up=warm_up)
        started.append(auth)
        return auth

    yield build
    for auth in started:
        await auth.close()


def bearer(token: str) -> str:
    return f"Bearer {token}"
