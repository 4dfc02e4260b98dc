"""Verify a bearer JWT against the issuer it names (``TokenVerifier``).

Order matters and is fixed: parse the header, route by the (unverified) ``iss`` to a *configured*
issuer, check the algorithm against that issuer's allow-list (so ``none`` and HMAC never reach a
key), find the key, verify the signature, then ``iss``/``aud`` and the times. Claims are trusted
only after the signature verified. Times are checked here rather than by PyJWT so that the clock is
injectable and every failure gets its own code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import jwt
from jwt.exceptions import (
    InvalidAudienceError,
    InvalidSignatureError,
    InvalidTokenError,
    MissingRequiredClaimError,
)

from clearance.auth import errors
from clearance.auth.config import IssuerConfig
from clearance.auth.jwks import JwksCache

MAX_TOKEN_BYTES = 16 * 1024
_DECODER = jwt.PyJWT(
    options={
        "verify_signature": True,
        "verify_aud": True,
        "verify_iss": True,
        # Times are ours (injectable clock, distinct codes): see _check_times.
        "verify_exp": False,
        "verify_nbf": False,
        "verify_iat": False,
        "require": ["iss", "exp"],
    }
)


def _malformed(what: str) -> Exception:
    return errors.invalid_token(errors.MALFORMED_TOKEN, f"the bearer token is not a well-formed JWT ({what})")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class TokenVerifier:
    """Verifies JWTs from the configured issuers; ``verify`` returns the issuer's config and the
    claims."""

    def __init__(
        self,
        issuers: Mapping[str, tuple[IssuerConfig, JwksCache]],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuers = dict(issuers)
        self._clock = clock

    async def verify(self, token: str) -> tuple[IssuerConfig, dict[str, Any]]:
        if len(token) > MAX_TOKEN_BYTES:
            raise _malformed(f"longer than {MAX_TOKEN_BYTES} bytes")
        if token.count(".") != 2:
            raise _malformed("expected three dot-separated parts; an encrypted JWT is not supported")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except InvalidTokenError:  # DecodeError, and header checks such as an unsupported 'crit'
            raise _malformed("cannot decode its header or payload") from None
        if "crit" in header:
            raise _malformed("it names critical header extensions this gateway does not support")

        iss = unverified.get("iss")
        entry = self._issuers.get(iss) if isinstance(iss, str) else None
        if entry is None:
            raise errors.invalid_token(
                errors.UNKNOWN_ISSUER,
                "the token's issuer is not trusted by this gateway (see auth.issuers): "
                "get a token from your organisation's identity provider",
            )
        issuer, cache = entry

        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in issuer.algorithms:
            raise errors.invalid_token(
                errors.DISALLOWED_ALGORITHM,
                f"the token's signing algorithm is not allowed for {issuer.issuer} "
                f"(allowed: {', '.join(issuer.algorithms)})",
            )
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _malformed("its 'kid' is not a string")

        claims = self._decode(token, issuer, await cache.keys_for(kid, alg), alg)
        self._check_times(claims, issuer)
        return issuer, claims

    def _decode(self, token: str, issuer: IssuerConfig, keys: list[jwt.PyJWK], alg: str) -> dict[str, Any]:
        for key in keys:
            try:
                claims: dict[str, Any] = _DECODER.decode(
                    token,
                    key=key,
                    algorithms=[alg],
                    audience=list(issuer.audiences),
                    issuer=issuer.issuer,
                )
            except InvalidSignatureError:
                continue
            except MissingRequiredClaimError as exc:
                if exc.claim == "aud":
                    raise self._wrong_audience(issuer) from None
                raise errors.invalid_token(
                    errors.MISSING_CLAIM, f"the token has no '{exc.claim}' claim, which is required"
                ) from None
            except InvalidAudienceError:
                raise self._wrong_audience(issuer) from None
            except InvalidTokenError:
                raise _malformed("its claims are not of the expected types") from None
            return claims
        raise errors.invalid_token(
            errors.INVALID_SIGNATURE,
            f"the token's signature does not verify with the keys of {issuer.issuer}: get a new token",
        )

    @staticmethod
    def _wrong_audience(issuer: IssuerConfig) -> Exception:
        return errors.invalid_token(
            errors.WRONG_AUDIENCE,
            f"the token is not meant for this gateway: its audience must include "
            f"{' or '.join(issuer.audiences)} (ask for a token for that resource/scope)",
        )

    def _check_times(self, claims: Mapping[str, Any], issuer: IssuerConfig) -> None:
        now = self._clock()
        leeway = issuer.leeway
        exp = claims["exp"]
        for name in ("exp", "nbf", "iat"):
            if name in claims and not _is_number(claims[name]):
                raise _malformed(f"its '{name}' claim is not a number")
        if now >= exp + leeway:
            raise errors.invalid_token(
                errors.TOKEN_EXPIRED,
                "the token has expired: get a new one (`clearance token` refreshes it)",
            )
        nbf = claims.get("nbf")
        if nbf is not None and now < nbf - leeway:
            raise errors.invalid_token(
                errors.TOKEN_NOT_YET_VALID,
                "the token is not valid yet (nbf): check the clocks of this host and the provider",
            )
        iat = claims.get("iat")
        if iat is not None and now < iat - leeway:
            raise errors.invalid_token(
                errors.TOKEN_NOT_YET_VALID,
                "the token was issued in the future (iat): check the clocks of this host and the provider",
            )
