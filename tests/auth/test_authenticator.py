"""The seam the proxy calls: loopback-only without auth, header parsing, dispatch to tokens and keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.auth import ApiKeysConfig, AuthConfig, IssuerConfig, build_authenticator
from clearance.auth import errors as codes
from clearance.auth.authenticator import is_loopback, local_caller, loopback_host
from clearance.exceptions import AuthenticationError, ConfigError
from clearance.models import Identity
from tests.auth.conftest import AuthFactory, bearer
from tests.oidc.harness import API, OidcProvider

# Addresses as the server reports its peer: strings here, no traffic is sent anywhere.
PEERS = [
    ("127.0.0.1", True),
    ("127.10.20.30", True),
    ("::1", True),
    ("::ffff:127.0.0.1", True),
    ("10.0.0.8", False),
    ("192.168.1.20", False),
    ("203.0.113.5", False),
    ("::ffff:10.0.0.8", False),
    ("fe80::1%eth0", False),
    ("", False),
    (None, False),
    ("localhost", False),  # a peer address is never a name
]


@pytest.mark.parametrize(("peer", "loopback"), PEERS)
def test_when_classifying_peers_then_only_loopback_addresses_count(peer: str | None, loopback: bool) -> None:
    assert is_loopback(peer) is loopback


@pytest.mark.parametrize(("peer", "loopback"), PEERS)
@pytest.mark.parametrize("header", [None, "Bearer whatever"])
async def test_when_no_auth_is_configured_then_only_loopback_callers_are_served_as_anonymous(
    peer: str | None, loopback: bool, header: str | None
) -> None:
    auth = build_authenticator(AuthConfig())
    await auth.start()
    try:
        if loopback:
            assert await auth.authenticate(header, peer) == Identity.anonymous()
        else:
            with pytest.raises(AuthenticationError) as info:
                await auth.authenticate(header, peer)
            assert info.value.code == codes.LOOPBACK_ONLY
            assert info.value.http_status == 401
    finally:
        await auth.close()


HOSTS = [
    ("127.0.0.1:8080", True),
    ("localhost:8080", True),
    ("localhost", True),
    ("LOCALHOST.", True),
    ("api.localhost:8080", True),
    ("[::1]:8080", True),
    ("::1", True),
    ("127.0.0.2", True),
    (None, True),  # HTTP/1.0 without a Host names no other site
    ("evil.example", False),
    ("evil.example:8080", False),
    ("127.0.0.1.evil.example", False),
    ("localhost.evil.example", False),
    ("10.0.0.1:8080", False),
    ("", False),
    ("[::1]evil.example", False),
    ("[::1]:80x", False),
]


@pytest.mark.parametrize(("host", "local"), HOSTS)
def test_when_reading_a_host_header_then_only_names_of_this_machine_count(host: str | None, local: bool) -> None:
    assert loopback_host(host) is local
    assert local_caller("127.0.0.1", host) is local
    assert not local_caller("192.0.2.7", host)  # a name never makes a remote peer local


@pytest.mark.parametrize("host", [h for h, local in HOSTS if not local])
async def test_when_no_auth_is_configured_then_a_loopback_peer_asking_for_another_host_is_refused(
    host: str,
) -> None:
    # DNS rebinding: a page from evil.example, its name then pointed at 127.0.0.1, reaches the gateway from the
    # victim's own browser, a loopback peer and the same origin, so it could read the model's answers. The peer is
    # loopback; only the Host header tells the attack apart.
    auth = build_authenticator(AuthConfig())
    await auth.start()
    try:
        with pytest.raises(AuthenticationError) as info:
            await auth.authenticate(None, "127.0.0.1", host=host)
        assert info.value.code == codes.LOOPBACK_ONLY
        assert await auth.authenticate(None, "127.0.0.1", host="127.0.0.1:8080") == Identity.anonymous()
    finally:
        await auth.close()


def test_when_no_auth_is_configured_then_describe_says_so_for_the_start_warning() -> None:
    auth = build_authenticator(AuthConfig())

    assert auth.configured is False
    assert "loopback" in auth.describe()


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, codes.MISSING_CREDENTIALS),
        ("", codes.MISSING_CREDENTIALS),
        ("   ", codes.MISSING_CREDENTIALS),
        ("Basic dXNlcjpwYXNz", codes.MALFORMED_TOKEN),
        ("Bearer", codes.MALFORMED_TOKEN),
        ("Bearer    ", codes.MALFORMED_TOKEN),
        ("Bearer clr_0123456789ab_" + "A" * 43, codes.API_KEYS_DISABLED),
    ],
)
async def test_when_auth_is_configured_then_a_loopback_caller_still_needs_a_credential(
    provider: OidcProvider, make_authenticator: AuthFactory, header: str | None, code: str
) -> None:
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))

    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(header, "127.0.0.1")

    assert info.value.code == code
    assert info.value.headers["WWW-Authenticate"].startswith('Bearer realm="clearance"')


async def test_when_the_scheme_is_lowercase_bearer_then_the_token_is_accepted(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))
    token = await provider.client_credentials("svc")

    assert (await auth.authenticate(f"bearer  {token} ", "198.51.100.7")).subject == "svc"


async def test_when_only_api_keys_are_enabled_then_a_jwt_is_refused_as_unknown_issuer(
    provider: OidcProvider, tmp_path: object
) -> None:
    auth = build_authenticator(AuthConfig(api_keys=ApiKeysConfig(enabled=True, url=f"sqlite:///{tmp_path}/k.db")))
    await auth.start()
    try:
        with pytest.raises(AuthenticationError) as info:
            await auth.authenticate(bearer(await provider.client_credentials("svc")), None)
        assert info.value.code == codes.UNKNOWN_ISSUER
    finally:
        await auth.close()


def test_when_keys_are_enabled_without_any_database_then_building_fails_with_the_key_to_set() -> None:
    with pytest.raises(ConfigError) as info:
        build_authenticator(AuthConfig(api_keys=ApiKeysConfig(enabled=True)))

    assert info.value.errors[0][0] == "auth.api_keys.url"


async def test_when_configured_then_describe_names_the_issuers(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API))

    assert auth.configured is True
    assert provider.issuer in auth.describe()


async def test_when_a_group_source_is_unreadable_at_start_then_start_fails(
    provider: OidcProvider, tmp_path: Path
) -> None:
    config = AuthConfig(
        issuers=(IssuerConfig(issuer=provider.issuer, audience=API, group_source=tmp_path / "missing.yaml"),)
    )
    auth = build_authenticator(config)

    with pytest.raises(ConfigError, match="group source"):
        await auth.start()
    await auth.close()
