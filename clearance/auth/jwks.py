"""The signing keys of one issuer: discovery, fetching, caching and refreshing (``JwksCache``).

The policy, and why (PyJWT's ``PyJWKClient`` defaults were seen to delay rotation by 30 s and to
keep trusting retired keys, so it is not used):

- A token naming an unknown ``kid`` triggers a fetch at once (rotation takes effect immediately), at
  most once per ``unknown_kid_cooldown`` per issuer, and concurrent requests share that one fetch:
  junk tokens cannot hammer the provider.
- Every successful fetch *replaces* the key set: a key the provider retired stops being trusted. The
  set is re-fetched in the background every ``refresh_interval`` while tokens keep arriving.
- A failed fetch keeps the cached keys (tokens signed by known keys keep working while the provider
  is down, for up to ``max_stale``). A token whose key is unknown while the provider is unreachable
  gets a 503, not a 401.
- Only asymmetric keys meant for signatures are kept; a key without ``alg`` is used with the token's
  algorithm when that algorithm is allowed and fits the key's type (and curve).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from clearance.auth import errors
from clearance.auth.config import IssuerConfig, JwksConfig, check_https
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.auth.jwks")

# Which JWS algorithms each key type can verify (a key with no ``alg`` is matched through this).
_RSA_ALGS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
_EC_ALGS_BY_CURVE = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}
_OKP_CURVES = frozenset({"Ed25519", "Ed448"})
MAX_KEYS = 100


class FetchError(Exception):
    """A discovery document or key set could not be fetched or is not what it should be."""


class HttpJson:
    """GETs a JSON document with a timeout and a size limit, through the session it is given."""

    def __init__(self, session: aiohttp.ClientSession, *, timeout: float, max_bytes: int) -> None:
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_bytes = max_bytes

    async def get(self, url: str) -> Any:
        try:
            async with self._session.get(url, timeout=self._timeout, headers={"Accept": "application/json"}) as resp:
                if resp.status != 200:
                    raise FetchError(f"{url} answered HTTP {resp.status}")
                body = await resp.content.read(self._max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FetchError(f"{url} is unreachable: {type(exc).__name__}") from None
        if len(body) > self._max_bytes:
            raise FetchError(f"{url} sent more than {self._max_bytes} bytes")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            raise FetchError(f"{url} did not answer with JSON") from None


def key_fits(jwk: Mapping[str, Any], alg: str) -> bool:
    """Whether ``jwk`` may verify a signature made with ``alg`` (allowed, asymmetric)."""
    if "alg" in jwk:
        return bool(jwk["alg"] == alg)
    kty = jwk.get("kty")
    if kty == "RSA":
        return alg in _RSA_ALGS
    if kty == "EC":
        return _EC_ALGS_BY_CURVE.get(str(jwk.get("crv"))) == alg
    if kty == "OKP":
        return alg == "EdDSA" and jwk.get("crv") in _OKP_CURVES
    return False


def _usable(jwk: Any) -> bool:
    """Asymmetric signing keys only: a published symmetric (``oct``) key is never trusted."""
    return (
        isinstance(jwk, dict)
        and jwk.get("kty") in ("RSA", "EC", "OKP")
        and jwk.get("use", "sig") == "sig"
        and isinstance(jwk.get("kid", ""), str)
        and "d" not in jwk  # a private key published by mistake: refuse rather than use
    )


@dataclass(frozen=True, slots=True)
class KeySet:
    """One fetched key set: by ``kid``, plus those published without one."""

    by_kid: Mapping[str, Mapping[str, Any]]
    without_kid: tuple[Mapping[str, Any], ...]

    @classmethod
    def parse(cls, document: Any, source: str) -> KeySet:
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise FetchError(f"{source} is not a JSON Web Key Set (no 'keys' list)")
        keys = [k for k in document["keys"] if _usable(k)]
        if len(keys) > MAX_KEYS:
            raise FetchError(f"{source} holds more than {MAX_KEYS} keys")
        by_kid = {k["kid"]: k for k in keys if k.get("kid")}
        return cls(by_kid=by_kid, without_kid=tuple(k for k in keys if not k.get("kid")))

    def candidates(self, kid: str | None, alg: str) -> list[Mapping[str, Any]]:
        if kid is not None:
            jwk = self.by_kid.get(kid)
            return [jwk] if jwk is not None and key_fits(jwk, alg) else []
        pool = [*self.by_kid.values(), *self.without_kid]
        return [k for k in pool if key_fits(k, alg)]

    def knows(self, kid: str | None) -> bool:
        return kid in self.by_kid if kid is not None else bool(self.by_kid or self.without_kid)


class JwksCache:
    """The signing keys of one issuer. See the module docstring for the refresh policy.

    ``clock`` is monotonic seconds (injectable so that tests can move time without sleeping).
    """

    def __init__(
        self,
        issuer: IssuerConfig,
        settings: JwksConfig,
        http: HttpJson,
        tasks: TaskSet,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.issuer
        self._settings = settings
        self._http = http
        self._tasks = tasks
        self._clock = clock
        self._jwks_uri = issuer.jwks_uri
        self._keys: KeySet | None = None
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._last_failed = False
        self._inflight: asyncio.Future[None] | None = None
        self._pyjwk: dict[tuple[int, str], PyJWK] = {}
        self.fetch_count = 0
        """Fetch attempts of the key set so far (tests and metrics read it)."""

    async def keys_for(self, kid: str | None, alg: str) -> list[PyJWK]:
        """The keys that may verify a token with this ``kid`` and ``alg``, fetching when the kid is
        new.

        Raises ``AuthenticationError`` (unknown_key) when the provider does not publish such a key,
        and ``ServiceUnavailable`` when it cannot be asked.
        """
        now = self._clock()
        if self._keys is not None and self._too_stale(now):
            await self._refresh_if_allowed(now)
            if self._too_stale(self._clock()):
                raise errors.idp_unavailable(self.issuer)
        if self._keys is not None and self._keys.knows(kid):
            self._maybe_refresh_in_background(now)
            return self._build(self._keys.candidates(kid, alg), alg, kid)
        if self._inflight is not None:
            await asyncio.shield(self._inflight)
        else:
            await self._refresh_if_allowed(now)
        keys = self._keys
        if keys is not None and keys.knows(kid):
            return self._build(keys.candidates(kid, alg), alg, kid)
        if self._last_failed:
            raise errors.idp_unavailable(self.issuer)
        raise errors.invalid_token(
            errors.UNKNOWN_KEY,
            f"the token is signed with a key that {self.issuer} does not publish "
            "(retired, or not from this "
            "issuer): get a new token",
        )

    def _build(self, jwks: list[Mapping[str, Any]], alg: str, kid: str | None) -> list[PyJWK]:
        if not jwks:
            raise errors.invalid_token(
                errors.DISALLOWED_ALGORITHM,
                f"the token's algorithm does not fit the signing key of {self.issuer} it names",
            )
        out: list[PyJWK] = []
        for jwk in jwks:
            slot = (id(jwk), alg)
            key = self._pyjwk.get(slot)
            if key is None:
                try:
                    key = PyJWK(dict(jwk), algorithm=alg)
                except PyJWKError:
                    log.warning("unusable signing key skipped", extra={"issuer": self.issuer, "kid": kid})
                    continue
                self._pyjwk[slot] = key
            out.append(key)
        return out

    def _too_stale(self, now: float) -> bool:
        limit = self._settings.max_stale
        return limit is not None and self._fetched_at is not None and now - self._fetched_at > limit

    def _cooling_down(self, now: float) -> bool:
        return self._attempted_at is not None and now - self._attempted_at < self._settings.unknown_kid_cooldown

    def _maybe_refresh_in_background(self, now: float) -> None:
        if self._inflight is not None or self._cooling_down(now):
            return
        if self._fetched_at is not None and now - self._fetched_at < self._settings.refresh_interval:
            return
        self._start_refresh()
        # A background refresh reports its failure through the log and _last_failed; never raises
        # here.

    async def _refresh_if_allowed(self, now: float) -> None:
        if self._inflight is None and not self._cooling_down(now):
            self._start_refresh()
        if self._inflight is not None:
            await asyncio.shield(self._inflight)

    def _start_refresh(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._inflight = future
        self._attempted_at = self._clock()
        _ = self._tasks.spawn(self._refresh(future), name=f"jwks-refresh {self.issuer}")

    async def _refresh(self, future: asyncio.Future[None]) -> None:
        self.fetch_count += 1
        try:
            keys = await self._fetch()
        except FetchError as exc:
            self._last_failed = True
            log.warning(
                "signing keys could not be fetched; cached keys stay in use",
                extra={"issuer": self.issuer, "error": str(exc)},
            )
        else:
            retired = set(self._keys.by_kid) - set(keys.by_kid) if self._keys else set()
            if retired:
                log.info("signing keys retired", extra={"issuer": self.issuer, "kids": sorted(retired)})
            self._keys = keys
            self._pyjwk.clear()
            self._fetched_at = self._clock()
            self._last_failed = False
        finally:
            self._inflight = None
            future.set_result(None)

    async def _fetch(self) -> KeySet:
        if self._jwks_uri is None:
            self._jwks_uri = await self._discover()
        return KeySet.parse(await self._http.get(self._jwks_uri), self._jwks_uri)

    async def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        doc = await self._http.get(url)
        if not isinstance(doc, dict) or doc.get("issuer") != self.issuer:
            raise FetchError(f"{url} names another issuer: check auth.issuers[].issuer (exact, with slash)")
        jwks_uri = doc.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise FetchError(f"{url} has no jwks_uri")
        try:
            return check_https(jwks_uri, "jwks_uri")
        except ValueError as exc:
            raise FetchError(f"{url}: {exc}") from None

    async def settle(self) -> None:
        """Wait for a fetch in progress, if any (a background refresh, for instance)."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)

    async def warm_up(self) -> bool:
        """Fetch the key set now (at start); False, with a warning logged, when the provider is
        unreachable."""
        await self._refresh_if_allowed(self._clock())
        return self._keys is not None and not self._last_failed
