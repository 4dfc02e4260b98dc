"""Who is asking: the ``Authorization`` header (and the peer's address) to an ``Identity``.

``Authenticator.authenticate`` is the one seam the proxy calls for every request. It answers an
``Identity``, or raises ``AuthenticationError`` (401, with ``WWW-Authenticate``) or
``ServiceUnavailable`` (503: a provider or the key store is down). ``start()``/``close()`` own its
HTTP client, key caches and key store.

- ``Bearer clr_…``: a gateway-issued API key (when ``auth.api_keys.enabled``).
- ``Bearer <JWT>``: a token from one of ``auth.issuers`` (users, and services through client
  credentials).
- No auth configured (no issuer, API keys disabled): loopback callers only, as ``anonymous``; others
  get 401. "Loopback" is the peer's address *and* the ``Host`` it asked for (``local_caller``): a web page whose
  name was pointed at 127.0.0.1 (DNS rebinding) reaches the gateway from a loopback peer, same-origin to the
  browser, and could read the model's answers; its ``Host`` is the page's name, so it is refused.
"""

from __future__ import annotations

import ipaddress
import secrets
import time
from collections.abc import Callable

import aiohttp

from clearance.auth import errors
from clearance.auth.claims import identity_from_claims
from clearance.auth.config import AuthConfig, IssuerConfig
from clearance.auth.group_source import GroupSourceFile
from clearance.auth.jwks import HttpJson, JwksCache
from clearance.auth.key_auth import ApiKeyAuthenticator
from clearance.auth.keys import ApiKeyStore, looks_like_key
from clearance.auth.tokens import TokenVerifier
from clearance.exceptions import ConfigError
from clearance.models import Identity
from clearance.tasks import TaskSet


def is_loopback(peer_ip: str | None) -> bool:
    if not peer_ip:
        return False
    try:
        address = ipaddress.ip_address(peer_ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def loopback_host(host: str | None) -> bool:
    """Whether a ``Host`` header names this machine (``localhost``, a loopback address; any port). None (an
    HTTP/1.0 request without one) is no other site's name either."""
    if host is None:
        return True
    if host.startswith("["):  # [IPv6]:port
        name, _, port = host[1:].partition("]")
        if port and not (port.startswith(":") and port[1:].isdigit()):
            return False
    elif host.count(":") == 1:  # name:port
        name = host.partition(":")[0]
    else:  # a name alone, or a bare IPv6 address
        name = host
    name = name.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost") or is_loopback(name)


def local_caller(peer_ip: str | None, host: str | None) -> bool:
    """A caller on this machine that asked for this machine: a loopback peer *and* a loopback ``Host``."""
    return is_loopback(peer_ip) and loopback_host(host)


def bearer_token(authorization: str) -> str:
    """The token of a ``Bearer`` header value; a 401 for any other scheme."""
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise errors.invalid_token(
            errors.MALFORMED_TOKEN,
            "the Authorization header must be 'Bearer <token>'",
        )
    return token.strip()


class Authenticator:
    """Turns the ``Authorization`` header into an ``Identity``.

    Build it with ``build_authenticator``.
    """

    def __init__(
        self,
        config: AuthConfig,
        *,
        key_store: ApiKeyStore | None = None,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self._tasks = TaskSet()
        self._session: aiohttp.ClientSession | None = None
        self._caches: dict[str, JwksCache] = {}
        self._verifier: TokenVerifier | None = None
        self._sources: dict[str, GroupSourceFile] = {}
        self._keys = (
            ApiKeyAuthenticator(key_store, last_used_resolution=config.api_keys.last_used_resolution, clock=clock)
            if key_store is not None
            else None
        )

    @property
    def configured(self) -> bool:
        """False: no auth configured; the caller should log ``describe()`` as a warning at start."""
        return self.config.configured

    def describe(self) -> str:
        """One line for the start-up log saying how callers are authenticated."""
        if not self.configured:
            return (
                "no authentication configured (auth.issuers is empty, auth.api_keys disabled): "
                "only loopback callers are served, as anonymous"
            )
        parts = [f"issuers: {', '.join(i.issuer for i in self.config.issuers)}"] if self.config.issuers else []
        if self._keys is not None:
            parts.append("API keys: enabled")
        return "authentication: " + "; ".join(parts)

    async def start(self, *, warm_up: bool = True) -> None:
        """Open the HTTP client, load group sources, create the key table and fetch every key set.

        An unreachable provider does not stop the start (its tokens get 503 until it answers); an
        unreadable group source does (``ConfigError``).
        """
        for issuer in self.config.issuers:
            if issuer.group_source is not None:
                source = GroupSourceFile(issuer.group_source, clock=self._monotonic)
                source.load()
                self._sources[issuer.issuer] = source
        if self._keys is not None:
            await self._keys.start()
        if not self.config.issuers:
            return
        settings = self.config.jwks
        self._session = aiohttp.ClientSession(headers={"User-Agent": "clearance"}, raise_for_status=False)
        http = HttpJson(self._session, timeout=settings.http_timeout, max_bytes=settings.max_bytes)
        entries: dict[str, tuple[IssuerConfig, JwksCache]] = {}
        for issuer in self.config.issuers:
            cache = JwksCache(issuer, settings, http, self._tasks, clock=self._monotonic)
            self._caches[issuer.issuer] = cache
            entries[issuer.issuer] = (issuer, cache)
        self._verifier = TokenVerifier(entries, clock=self._clock)
        if warm_up:
            for cache in self._caches.values():
                await cache.warm_up()

    async def close(self) -> None:
        await self._tasks.cancel_all()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._keys is not None:
            await self._keys.close()

    def jwks_cache(self, issuer: str) -> JwksCache:
        return self._caches[issuer]

    @property
    def api_keys(self) -> ApiKeyAuthenticator | None:
        return self._keys

    async def authenticate(
        self, authorization: str | None, peer_ip: str | None, *, host: str | None = None
    ) -> Identity:
        """``host``: the request's ``Host`` header (None: it had none), part of what makes a caller local when no
        authentication is configured."""
        if not self.configured:
            if local_caller(peer_ip, host):
                return Identity.anonymous()
            raise errors.loopback_only()
        if authorization is None or not authorization.strip():
            raise errors.missing_credentials()
        token = bearer_token(authorization)
        if looks_like_key(token):
            if self._keys is None:
                raise errors.invalid_token(
                    errors.API_KEYS_DISABLED,
                    "API keys are not enabled on this gateway (auth.api_keys.enabled)",
                )
            return await self._keys.authenticate(token)
        if self._verifier is None:
            raise errors.invalid_token(
                errors.UNKNOWN_ISSUER,
                "this gateway trusts no identity provider (auth.issuers is empty): use an API key",
            )
        issuer, claims = await self._verifier.verify(token)
        return identity_from_claims(claims, issuer, self._sources.get(issuer.issuer))

    async def identify_id_token(self, token: str, *, issuer: str, client_id: str, nonce: str) -> Identity:
        """The identity an OIDC ID token issued to ``client_id`` (the console's sign-in) describes: verified with
        ``issuer``'s keys, times and leeway, its audience the client, and mapped by that issuer's claim mapping, so
        the console's user is the identity the API knows; its ``nonce`` must be the one the sign-in sent (a token
        replayed from another sign-in is refused). ``AuthenticationError`` when any check fails."""
        config = next((i for i in self.config.issuers if i.issuer == issuer), None)
        if config is None or issuer not in self._caches:
            raise errors.invalid_token(errors.UNKNOWN_ISSUER, f"{issuer} is not one of auth.issuers")
        # an ID token's audience is the client that asked for it, and its azp that client too
        id_config = config.model_copy(update={"audience": client_id, "allowed_clients": None})
        verifier = TokenVerifier({issuer: (id_config, self._caches[issuer])}, clock=self._clock)
        _, claims = await verifier.verify(token)
        sent = claims.get("nonce")
        if not isinstance(sent, str) or not secrets.compare_digest(sent, nonce):
            raise errors.invalid_token(
                errors.MISSING_CLAIM, "the ID token's nonce is not this sign-in's: sign in again"
            )
        return identity_from_claims(claims, id_config, self._sources.get(issuer))


def build_authenticator(
    config: AuthConfig,
    *,
    default_keys_url: str | None = None,
    clock: Callable[[], float] = time.time,
    monotonic: Callable[[], float] = time.monotonic,
) -> Authenticator:
    """The authenticator for ``config``. ``default_keys_url`` (the gateway's database) holds the API
    key table when ``auth.api_keys.url`` is not set. Call ``start()`` before use and ``close()``
    at shutdown."""
    key_store = None
    if config.api_keys.enabled:
        url = config.api_keys.url or default_keys_url
        if url is None:
            raise ConfigError(
                "auth.api_keys is enabled but no database URL is given: set auth.api_keys.url",
                [("auth.api_keys.url", "required when no default database is given")],
            )
        key_store = ApiKeyStore(url)
    return Authenticator(config, key_store=key_store, clock=clock, monotonic=monotonic)
