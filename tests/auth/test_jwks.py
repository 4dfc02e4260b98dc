"""The JWKS cache against a real provider: rotation, retired keys, outages and the refresh rate limit."""

from __future__ import annotations

import asyncio
from typing import Any

import jwt
import pytest

from clearance.auth import Authenticator, JwksConfig
from clearance.auth import errors as codes
from clearance.auth.jwks import FetchError, JwksCache, KeySet, key_fits
from clearance.exceptions import AuthenticationError, ServiceUnavailable
from tests.auth.conftest import AuthFactory, FakeClock, bearer
from tests.auth.test_tokens import forge, issuer_for
from tests.oidc.harness import OidcProvider, private_key, rsa_jwk

MAX_STALE = 3600.0
SETTINGS = JwksConfig(refresh_interval=300, unknown_kid_cooldown=5, max_stale=MAX_STALE)


async def watching(idp: OidcProvider, make_authenticator: AuthFactory) -> tuple[FakeClock, Authenticator, JwksCache]:
    """An authenticator trusting ``idp`` whose cache timing the test moves by hand."""
    clock = FakeClock(0)
    auth = await make_authenticator(issuer_for(idp), jwks=SETTINGS, monotonic=clock)
    return clock, auth, auth.jwks_cache(idp.issuer)


async def test_when_the_provider_rotates_its_key_then_new_tokens_work_at_once_and_the_old_key_is_dropped(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, cache = await watching(own_provider, make_authenticator)
    old_token = await own_provider.client_credentials("svc")
    assert (await auth.authenticate(bearer(old_token), None)).subject == "svc"

    own_provider.restart(keys=[rsa_jwk("rsa-2")])
    clock.advance(SETTINGS.unknown_kid_cooldown)  # no fetch just happened: rotation is not delayed further
    new_token = await own_provider.client_credentials("svc")
    fetches = cache.fetch_count

    assert (await auth.authenticate(bearer(new_token), None)).subject == "svc"
    assert cache.fetch_count == fetches + 1
    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(bearer(old_token), None)  # still within its lifetime, but its key is retired
    assert info.value.code == codes.UNKNOWN_KEY


async def test_when_the_refresh_interval_passes_then_a_retired_key_stops_being_trusted(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, cache = await watching(own_provider, make_authenticator)
    old_token = await own_provider.client_credentials("svc")
    own_provider.restart(keys=[rsa_jwk("rsa-2")])

    assert (await auth.authenticate(bearer(old_token), None)).subject == "svc"  # no refresh due yet
    clock.advance(SETTINGS.refresh_interval + 1)
    await auth.authenticate(bearer(old_token), None)  # served from cache; refresh starts in the background
    await cache.settle()

    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(bearer(old_token), None)
    assert info.value.code == codes.UNKNOWN_KEY


async def test_when_the_provider_is_down_then_cached_keys_work_and_an_unknown_key_is_503(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, cache = await watching(own_provider, make_authenticator)
    token = await own_provider.client_credentials("svc")
    own_provider.stop()

    clock.advance(SETTINGS.refresh_interval + 1)  # a background refresh is due, and will fail
    assert (await auth.authenticate(bearer(token), None)).subject == "svc"
    await cache.settle()
    assert (await auth.authenticate(bearer(token), None)).subject == "svc"

    clock.advance(SETTINGS.unknown_kid_cooldown)
    rotated = forge(_with_key(own_provider, rsa_jwk("rsa-9")), {})
    with pytest.raises(ServiceUnavailable) as info:
        await auth.authenticate(bearer(rotated), None)
    assert info.value.http_status == 503
    assert info.value.code == codes.IDP_UNAVAILABLE

    own_provider.start()  # back up, still without rsa-9: now it is a plain unknown key
    clock.advance(SETTINGS.unknown_kid_cooldown)
    with pytest.raises(AuthenticationError) as refused:
        await auth.authenticate(bearer(rotated), None)
    assert refused.value.code == codes.UNKNOWN_KEY


async def test_when_the_provider_stays_down_past_max_stale_then_even_cached_keys_get_503(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, _ = await watching(own_provider, make_authenticator)
    token = await own_provider.client_credentials("svc")
    own_provider.stop()

    clock.advance(MAX_STALE - 1)
    assert (await auth.authenticate(bearer(token), None)).subject == "svc"
    clock.advance(2)
    with pytest.raises(ServiceUnavailable):
        await auth.authenticate(bearer(token), None)


async def test_when_junk_tokens_name_unknown_keys_then_the_provider_is_asked_once_per_cooldown(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, cache = await watching(own_provider, make_authenticator)
    before = cache.fetch_count
    junk = [forge(own_provider, {}, header={"kid": f"junk-{i}"}) for i in range(50)]

    async def attempt(token: str) -> str:
        try:
            await auth.authenticate(bearer(token), None)
        except AuthenticationError as exc:
            return exc.code
        return "accepted"

    results = await asyncio.gather(*(attempt(t) for t in junk))

    assert set(results) == {codes.UNKNOWN_KEY}
    assert cache.fetch_count == before  # warm-up just fetched: the cooldown covers all of them
    clock.advance(SETTINGS.unknown_kid_cooldown)
    results = await asyncio.gather(*(attempt(t) for t in junk))
    assert set(results) == {codes.UNKNOWN_KEY}
    assert cache.fetch_count == before + 1  # one fetch, shared by all fifty


async def test_when_tokens_with_a_new_key_arrive_together_then_they_share_one_fetch(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    clock, auth, cache = await watching(own_provider, make_authenticator)
    own_provider.restart(keys=[rsa_jwk("rsa-2")])
    clock.advance(SETTINGS.unknown_kid_cooldown)
    tokens = [await own_provider.client_credentials("svc") for _ in range(5)]
    before = cache.fetch_count

    identities = await asyncio.gather(*(auth.authenticate(bearer(t), None) for t in tokens))

    assert {i.subject for i in identities} == {"svc"}
    assert cache.fetch_count == before + 1


async def test_when_the_provider_is_down_at_start_then_start_succeeds_and_tokens_get_503(
    own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    token = forge(own_provider, {})
    own_provider.stop()

    auth = await make_authenticator(issuer_for(own_provider), jwks=SETTINGS)

    with pytest.raises(ServiceUnavailable):
        await auth.authenticate(bearer(token), None)


def _with_key(idp: OidcProvider, jwk: dict[str, Any]) -> OidcProvider:
    clone = OidcProvider.__new__(OidcProvider)
    clone.issuer, clone.keys = idp.issuer, [jwk]
    return clone


RSA = {"kty": "RSA", "kid": "r", "n": "x", "e": "AQAB"}
EC256 = {"kty": "EC", "kid": "e", "crv": "P-256", "x": "x", "y": "y"}
OKP = {"kty": "OKP", "kid": "o", "crv": "Ed25519", "x": "x"}


@pytest.mark.parametrize(
    ("jwk", "alg", "fits"),
    [
        (RSA, "RS256", True),
        (RSA, "PS384", True),
        (RSA, "ES256", False),
        (RSA | {"alg": "RS512"}, "RS256", False),
        (RSA | {"alg": "RS512"}, "RS512", True),
        (EC256, "ES256", True),
        (EC256, "ES384", False),
        (OKP, "EdDSA", True),
        (OKP, "RS256", False),
        ({"kty": "oct", "k": "c2VjcmV0"}, "HS256", False),
    ],
)
def test_when_a_key_has_no_alg_then_its_type_decides_which_algorithms_it_verifies(
    jwk: dict[str, Any], alg: str, fits: bool
) -> None:
    assert key_fits(jwk, alg) is fits


def test_when_a_key_set_holds_symmetric_private_or_encryption_keys_then_they_are_dropped() -> None:
    document = {
        "keys": [
            RSA,
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
            RSA | {"kid": "private", "d": "secret-exponent"},
            RSA | {"kid": "enc", "use": "enc"},
        ]
    }

    keys = KeySet.parse(document, "test")

    assert set(keys.by_kid) == {"r"}


@pytest.mark.parametrize("document", [[], {"keys": "nope"}, {"nokeys": []}, "text"])
def test_when_the_document_is_not_a_key_set_then_the_fetch_fails(document: Any) -> None:
    with pytest.raises(FetchError):
        KeySet.parse(document, "test")


def test_when_a_token_has_no_kid_then_every_fitting_key_is_a_candidate() -> None:
    keys = KeySet.parse({"keys": [RSA, EC256, RSA | {"kid": "r2"}]}, "test")

    assert [k["kid"] for k in keys.candidates(None, "RS256")] == ["r", "r2"]
    assert keys.candidates("missing", "RS256") == []


async def test_when_a_token_has_no_kid_then_the_matching_key_still_verifies_it(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    jwk = provider.keys[0]
    token = jwt.encode(
        jwt.decode(await provider.client_credentials("svc"), options={"verify_signature": False}),
        private_key(jwk),
        algorithm="RS256",
    )
    assert "kid" not in jwt.get_unverified_header(token)

    assert (await auth.authenticate(bearer(token), None)).subject == "svc"
