"""Bearer JWTs from a real OpenID provider: signature, issuer, audience, times, algorithms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import aiohttp
import jwt
import pytest

from clearance.auth import IssuerConfig
from clearance.auth import errors as codes
from clearance.exceptions import AuthenticationError
from tests.auth.conftest import ES_API, OTHER_API, AuthFactory, FakeClock, bearer
from tests.oidc.harness import API, OidcProvider, private_key, public_pem

TTL = 300  # the provider's access token lifetime for these resources


def issuer_for(idp: OidcProvider, **overrides: Any) -> IssuerConfig:
    return IssuerConfig(**({"issuer": idp.issuer, "audience": API} | overrides))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(idp: OidcProvider, claims: dict[str, Any], *, header: dict[str, Any] | None = None) -> str:
    """A token signed with the provider's own RSA key (we generated it), with whatever claims a test needs."""
    jwk = idp.keys[0]
    now = int(time.time())
    payload = {"iss": idp.issuer, "aud": API, "sub": "forged", "iat": now, "exp": now + 300} | claims
    return jwt.encode(
        {k: v for k, v in payload.items() if v is not None},
        private_key(jwk),
        algorithm="RS256",
        headers={"kid": jwk["kid"]} | (header or {}),
    )


async def refused(auth_call: Any) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as info:
        await auth_call
    return info.value


async def test_when_the_provider_signs_a_client_credentials_token_then_it_is_a_service_identity(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    token = await provider.client_credentials("svc")

    identity = await auth.authenticate(bearer(token), "127.0.0.1")

    assert identity.subject == "svc"
    assert identity.kind == "service"
    assert identity.issuer == provider.issuer
    assert identity.groups == ("robots", "g-0001")


async def test_when_the_published_key_has_no_alg_then_the_tokens_allowed_alg_is_used(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider, algorithms=("RS256",)))
    token = await provider.client_credentials("svc")
    published = {k["kid"]: k for k in (await _jwks(provider))["keys"]}
    assert "alg" not in published["rsa-1"]  # the case under test: the provider publishes no alg
    assert jwt.get_unverified_header(token)["alg"] == "RS256"

    assert (await auth.authenticate(bearer(token), None)).subject == "svc"


async def test_when_a_token_is_es256_then_the_ec_key_verifies_it(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    token = await provider.client_credentials("svc", resource=ES_API)
    assert jwt.get_unverified_header(token)["alg"] == "ES256"

    assert (await auth.authenticate(bearer(token), None)).subject == "svc"


async def test_when_es256_is_not_allowed_then_an_es256_token_is_refused(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider, algorithms=("RS256",)))
    token = await provider.client_credentials("svc", resource=ES_API)

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.DISALLOWED_ALGORITHM


@pytest.mark.parametrize(
    ("seconds_after_issue", "accepted"),
    [
        (0, True),
        (TTL - 5, True),
        (TTL + 30, True),  # past exp, within the 60 s leeway
        (TTL + 61, False),
        (TTL + 3600, False),
    ],
)
async def test_when_time_passes_then_the_token_expires_after_the_leeway(
    provider: OidcProvider, make_authenticator: AuthFactory, seconds_after_issue: int, accepted: bool
) -> None:
    token = await provider.client_credentials("svc")
    iat = jwt.decode(token, options={"verify_signature": False})["iat"]
    clock = FakeClock(iat + seconds_after_issue)
    auth = await make_authenticator(issuer_for(provider), clock=clock)

    if accepted:
        assert (await auth.authenticate(bearer(token), None)).subject == "svc"
    else:
        error = await refused(auth.authenticate(bearer(token), None))
        assert error.code == codes.TOKEN_EXPIRED
        assert error.http_status == 401
        assert 'error="invalid_token"' in error.headers["WWW-Authenticate"]
        assert "expired" in error.headers["WWW-Authenticate"]


async def test_when_the_leeway_is_zero_then_one_second_past_exp_is_expired(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    token = await provider.client_credentials("svc")
    exp = jwt.decode(token, options={"verify_signature": False})["exp"]
    auth = await make_authenticator(issuer_for(provider, leeway=0), clock=FakeClock(exp + 1))

    assert (await refused(auth.authenticate(bearer(token), None))).code == codes.TOKEN_EXPIRED


async def test_when_the_audience_is_another_api_then_it_is_refused_and_says_which_audience(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    token = await provider.client_credentials("svc", resource=OTHER_API)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == OTHER_API

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.WRONG_AUDIENCE
    assert API in error.message


async def test_when_the_audience_setting_is_a_list_then_any_of_them_matches(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider, audience=("https://nope.test", OTHER_API)))
    token = await provider.client_credentials("svc", resource=OTHER_API)

    assert (await auth.authenticate(bearer(token), None)).subject == "svc"


async def test_when_a_token_has_no_audience_then_it_is_refused(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))

    error = await refused(auth.authenticate(bearer(forge(provider, {"aud": None})), None))

    assert error.code == codes.WRONG_AUDIENCE


async def test_when_another_provider_issued_the_token_then_the_issuer_is_unknown(
    provider: OidcProvider, own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    token = await own_provider.client_credentials("svc")

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.UNKNOWN_ISSUER


async def test_when_a_token_claims_a_trusted_issuer_but_another_key_signed_it_then_the_signature_fails(
    provider: OidcProvider, own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    # Both providers have a key named rsa-1: the kid matches, the signature must not.
    auth = await make_authenticator(issuer_for(provider))
    impostor = OidcProvider.__new__(OidcProvider)
    impostor.issuer, impostor.keys = provider.issuer, own_provider.keys
    token = forge(impostor, {})

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.INVALID_SIGNATURE


async def test_when_two_issuers_are_trusted_then_each_token_maps_through_its_own_issuer(
    provider: OidcProvider, own_provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(
        issuer_for(provider),
        issuer_for(own_provider, audience=OTHER_API, group_names={"robots": "Automation"}),
    )
    first = await provider.client_credentials("svc")
    second = await own_provider.client_credentials("svc", resource=OTHER_API)

    one = await auth.authenticate(bearer(first), None)
    two = await auth.authenticate(bearer(second), None)

    assert (one.issuer, one.groups) == (provider.issuer, ("robots", "g-0001"))
    assert (two.issuer, two.groups) == (own_provider.issuer, ("Automation", "g-0001"))
    # Each issuer keeps its own audience: the first provider's API token is not good for the second.
    wrong = await own_provider.client_credentials("svc")
    assert (await refused(auth.authenticate(bearer(wrong), None))).code == codes.WRONG_AUDIENCE


async def test_when_a_token_is_hmac_signed_with_the_public_key_then_it_is_refused(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    """The algorithm-confusion attack: HS256 keyed with the RSA public key an attacker can download."""
    auth = await make_authenticator(issuer_for(provider))
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}).encode())
    payload = b64(json.dumps({"iss": provider.issuer, "aud": API, "sub": "mallory", "exp": now + 300}).encode())
    signing_input = f"{header}.{payload}".encode()
    signature = hmac.new(public_pem(provider.keys[0]), signing_input, hashlib.sha256).digest()
    token = f"{header}.{payload}.{b64(signature)}"

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.DISALLOWED_ALGORITHM


async def test_when_a_token_is_unsigned_alg_none_then_it_is_refused(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    now = int(time.time())
    token = jwt.encode({"iss": provider.issuer, "aud": API, "sub": "mallory", "exp": now + 300}, "", algorithm="none")

    error = await refused(auth.authenticate(bearer(token), None))

    assert error.code == codes.DISALLOWED_ALGORITHM


async def test_when_the_header_names_rs256_for_the_ec_key_then_it_is_refused(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider))
    token = forge(provider, {}, header={"kid": "ec-1"})  # RS256-signed, naming the ES256 key

    assert (await refused(auth.authenticate(bearer(token), None))).code == codes.DISALLOWED_ALGORITHM


@pytest.mark.parametrize(
    ("claims", "header", "code"),
    [
        ({"nbf": int(time.time()) + 3600}, None, codes.TOKEN_NOT_YET_VALID),
        ({"iat": int(time.time()) + 3600}, None, codes.TOKEN_NOT_YET_VALID),
        ({"exp": None}, None, codes.MISSING_CLAIM),
        ({"exp": "tomorrow"}, None, codes.MALFORMED_TOKEN),
        ({"sub": None}, None, codes.MISSING_CLAIM),
        ({}, {"crit": ["exp"]}, codes.MALFORMED_TOKEN),
    ],
)
async def test_when_a_signed_token_has_bad_claims_then_the_code_names_the_problem(
    provider: OidcProvider,
    make_authenticator: AuthFactory,
    claims: dict[str, Any],
    header: dict[str, Any] | None,
    code: str,
) -> None:
    auth = await make_authenticator(issuer_for(provider))

    error = await refused(auth.authenticate(bearer(forge(provider, claims, header=header)), None))

    assert error.code == code


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", "a.b.c", "a.b", "x" * 20000, "eyJhbGciOiJSUzI1NiJ9.e30.sig.extra"],
)
async def test_when_the_token_is_not_a_jwt_then_it_is_malformed(
    provider: OidcProvider, make_authenticator: AuthFactory, token: str
) -> None:
    auth = await make_authenticator(issuer_for(provider))

    assert (await refused(auth.authenticate(bearer(token), None))).code == codes.MALFORMED_TOKEN


async def test_when_a_token_is_refused_then_no_part_of_it_is_echoed(
    provider: OidcProvider, make_authenticator: AuthFactory
) -> None:
    auth = await make_authenticator(issuer_for(provider, audience="https://only-this.test"))
    token = await provider.client_credentials("svc")

    error = await refused(auth.authenticate(bearer(token), None))

    shown = error.message + json.dumps(error.headers)
    for part in token.split("."):
        assert part[:16] not in shown
    assert "svc" not in shown  # nor a claim read from it


async def _jwks(idp: OidcProvider) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{idp.issuer}/jwks") as resp:
        return dict(await resp.json(content_type=None))
