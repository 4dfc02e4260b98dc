"""The console's sign-in: OpenID Connect authorization code with PKCE (RFC 7636, S256), ``state`` and ``nonce``.

``start`` makes the authorization request's URL and what the callback will check (kept in a signed, short-lived
cookie by the caller); ``finish`` checks the provider's answer against it, redeems the code at the token endpoint
(with the PKCE verifier, and the client secret for a confidential client) and turns the ID token into an identity
through the gateway's authenticator: the same issuer keys, times and claim mapping as API calls get. No token is
kept: the session holds the identity only.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp
import orjson

from clearance.auth.pkce import pkce_pair
from clearance.config import ConsoleOidcConfig
from clearance.console.session import SignInState
from clearance.exceptions import AuthenticationError, ServiceUnavailable
from clearance.models import Identity

HTTP_TIMEOUT: Final = 10.0
MAX_RESPONSE_BYTES: Final = 1024 * 1024
_UNAVAILABLE: Final = "identity_provider_unavailable"

IdentifyIdToken = Callable[..., Awaitable[Identity]]
"""``Authenticator.identify_id_token(token, issuer=, client_id=, nonce=)``."""


def sign_in_failed(message: str) -> AuthenticationError:
    """The provider's answer could not be turned into a session; ``message`` says why and what to do."""
    return AuthenticationError(message, code="sign_in_failed")


@dataclass(frozen=True, slots=True)
class ProviderEndpoints:
    authorization: str
    token: str


class OidcSignIn:
    """The console's OIDC client for ``config``. ``start()`` opens its HTTP client; ``close()`` closes it."""

    def __init__(self, config: ConsoleOidcConfig, identify: IdentifyIdToken, *, clock: Callable[[], float]) -> None:
        self.config = config
        self._identify = identify
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._endpoints: ProviderEndpoints | None = None
        self._secret = config.client_secret.resolve() if config.client_secret is not None else None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": "clearance-console"}, timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _json(self, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        if self._session is None:
            raise ServiceUnavailable("the console's sign-in is not started yet: retry in a moment", code=_UNAVAILABLE)
        try:
            async with self._session.request(method, url, **kwargs) as response:
                body = await response.content.read(MAX_RESPONSE_BYTES + 1)
                if len(body) > MAX_RESPONSE_BYTES:
                    return response.status, None
                try:
                    return response.status, orjson.loads(body) if body else None
                except orjson.JSONDecodeError:
                    return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ServiceUnavailable(
                f"the identity provider {self.config.issuer} did not answer ({type(exc).__name__}): retry, or check "
                "console.oidc.issuer",
                code=_UNAVAILABLE,
            ) from None

    async def endpoints(self) -> ProviderEndpoints:
        """The provider's authorization and token endpoints, from its discovery document (fetched once)."""
        if self._endpoints is None:
            url = self.config.issuer.rstrip("/") + "/.well-known/openid-configuration"
            status, doc = await self._json("GET", url)
            ok = status == 200 and isinstance(doc, dict) and doc.get("issuer") == self.config.issuer
            found = (doc.get("authorization_endpoint"), doc.get("token_endpoint")) if ok else (None, None)
            if not all(isinstance(e, str) and e.startswith(("https://", "http://")) for e in found):
                raise ServiceUnavailable(
                    f"{url} is not a discovery document naming authorization and token endpoints: check "
                    "console.oidc.issuer",
                    code=_UNAVAILABLE,
                )
            self._endpoints = ProviderEndpoints(authorization=str(found[0]), token=str(found[1]))
        return self._endpoints

    async def begin(self, next_path: str) -> tuple[str, SignInState]:
        """The URL to send the browser to, and what the callback must find again."""
        endpoints = await self.endpoints()
        verifier, challenge = pkce_pair()
        state = SignInState(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            verifier=verifier,
            next=next_path,
            started_at=self._clock(),
        )
        params = {
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_url,
            "scope": " ".join(self.config.scopes),
            "state": state.state,
            "nonce": state.nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        separator = "&" if "?" in endpoints.authorization else "?"
        return f"{endpoints.authorization}{separator}{urlencode(params)}", state

    async def finish(self, query: Mapping[str, str], expected: SignInState | None) -> Identity:
        """The identity the provider's answer (the callback's query) proves, or ``sign_in_failed`` (401) saying why."""
        if "error" in query:
            error = query["error"][:100]
            raise sign_in_failed(f"the identity provider refused the sign-in ({error}): sign in again, or ask an admin")
        returned = query.get("state")
        if expected is None or returned is None or not secrets.compare_digest(returned, expected.state):
            raise sign_in_failed(
                "this sign-in is not the one this browser started (or it took too long): sign in again"
            )
        code = query.get("code")
        if not code:
            raise sign_in_failed("the identity provider sent no authorization code: sign in again")
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.config.redirect_url,
            "client_id": self.config.client_id,
            "code_verifier": expected.verifier,
        }
        auth = aiohttp.BasicAuth(self.config.client_id, self._secret) if self._secret is not None else None
        endpoints = await self.endpoints()
        status, tokens = await self._json(
            "POST", endpoints.token, data=form, auth=auth, headers={"Accept": "application/json"}
        )
        if status != 200 or not isinstance(tokens, dict):
            refused = tokens.get("error") if isinstance(tokens, dict) else None
            raise sign_in_failed(
                f"the identity provider refused the authorization code ({str(refused or status)[:100]}): sign in again"
            )
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise sign_in_failed("the identity provider returned no ID token: console.oidc.scopes must include openid")
        return await self._identify(
            id_token, issuer=self.config.issuer, client_id=self.config.client_id, nonce=expected.nonce
        )
