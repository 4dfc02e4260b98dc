"""The ``auth:`` section of the configuration file: trusted issuers, API keys and the JWKS cache.

No issuer and API keys disabled means "no auth configured": the gateway then serves loopback callers
only, as ``anonymous``, and says so in a warning when it starts.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Asymmetric algorithms only: an HMAC algorithm next to a public key is the classic
# algorithm-confusion attack, and ``none`` is no signature at all. Neither can be configured.
AsymmetricAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"]
DEFAULT_ALGORITHMS: tuple[AsymmetricAlgorithm, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "EdDSA",
)

OverageHandling = Literal["deny", "group_source"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_https(url: str, what: str) -> str:
    """Return ``url`` if it is https (or http to a loopback host); raise ``ValueError`` naming
    ``what``."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname and _is_loopback_host(parts.hostname):
        return url
    raise ValueError(f"{what} must be an https:// URL (plain http is accepted for loopback hosts only)")


class IssuerConfig(_Strict):
    """One trusted OpenID provider, with its own audience and claim mapping.

    Tokens are routed to an issuer by their ``iss`` claim, which must equal ``issuer`` exactly (the
    value the provider's discovery document states, trailing slash included).
    """

    issuer: Annotated[str, Field(min_length=1)]
    audience: str | tuple[str, ...]
    """The token's ``aud`` must be (or contain) one of these. Entra: ``api://<app id>`` or the app
    id; Google ID tokens: the OAuth client id."""
    algorithms: tuple[AsymmetricAlgorithm, ...] = DEFAULT_ALGORITHMS
    leeway: Annotated[float, Field(ge=0, le=600)] = 60.0
    """Seconds of clock skew tolerated on ``exp``, ``nbf`` and ``iat``."""
    jwks_uri: str | None = None
    """Skip discovery and fetch keys from here (discovery at
    ``<issuer>/.well-known/openid-configuration`` is used otherwise)."""
    allowed_clients: tuple[str, ...] | None = None
    """When set, the token's ``azp`` (or Entra v1 ``appid``) must be one of these: Entra issues
    tokens for your API to any application in the tenant."""
    subject_claim: str = "sub"
    email_claim: str = "email"
    name_claim: str = "name"
    groups_claim: str | tuple[str, ...] | None = "groups"
    """A string names one top-level claim, taken literally (``groups``,
    ``https://example.com/groups``); a list is a path into nested objects (``[realm_access,
    roles]``). None: this issuer sends no groups."""
    roles_claim: str | None = None
    """Entra app roles (``roles``): added to the identity's groups."""
    require_groups: bool = False
    """Refuse a token that has no groups claim at all (rather than treating it as "no groups")."""
    group_names: dict[str, str] = {}
    """Group id -> name (Entra sends object ids). Unmapped ids are kept as they are."""
    overage: OverageHandling = "deny"
    """Entra group overage (``_claim_names`` names the groups claim: too many groups for a token):
    refuse the token with a clear message, or resolve the user's groups through ``group_source``."""
    hosted_domains: tuple[str, ...] | None = None
    """Google Workspace: the token's ``hd`` claim must be one of these domains."""
    group_source: Path | None = None
    """A YAML file mapping a user's email (or subject) to a list of groups, re-read when it changes.
    Its groups are added to those in the token (Google puts none there)."""

    @field_validator("issuer")
    @classmethod
    def _issuer_is_https(cls, value: str) -> str:
        return check_https(value, "issuer")

    @field_validator("jwks_uri")
    @classmethod
    def _jwks_is_https(cls, value: str | None) -> str | None:
        return None if value is None else check_https(value, "jwks_uri")

    @field_validator("audience")
    @classmethod
    def _audience_not_empty(cls, value: str | tuple[str, ...]) -> str | tuple[str, ...]:
        if not value or (isinstance(value, tuple) and not all(value)):
            raise ValueError("give at least one non-empty audience")
        return value

    @field_validator("algorithms")
    @classmethod
    def _algorithms_not_empty(cls, value: tuple[AsymmetricAlgorithm, ...]) -> tuple[AsymmetricAlgorithm, ...]:
        if not value:
            raise ValueError("give at least one algorithm")
        return value

    @field_validator("groups_claim")
    @classmethod
    def _path_not_empty(cls, value: str | tuple[str, ...] | None) -> str | tuple[str, ...] | None:
        if value is not None and (not value or (isinstance(value, tuple) and not all(value))):
            raise ValueError("a groups claim path needs at least one non-empty name")
        return value

    @model_validator(mode="after")
    def _overage_needs_source(self) -> IssuerConfig:
        if self.overage == "group_source" and self.group_source is None:
            raise ValueError("overage: group_source needs 'group_source' (a file of email -> groups)")
        return self

    @property
    def audiences(self) -> tuple[str, ...]:
        return (self.audience,) if isinstance(self.audience, str) else self.audience


class ApiKeysConfig(_Strict):
    """Gateway-issued API keys (``clr_…``) for scripts and agents."""

    enabled: bool = False
    url: str | None = None
    """A SQLAlchemy URL for the key table. None: the gateway's database (``database.url``)."""
    last_used_resolution: Annotated[float, Field(ge=0)] = 60.0
    """Seconds: last-used times are written at most this often (in one batch), not once per
    request."""


class JwksConfig(_Strict):
    """How signing keys are fetched and kept. Seconds throughout."""

    refresh_interval: Annotated[float, Field(gt=0)] = 300.0
    """Re-fetch every key set this often (in the background), so that keys the provider retired stop
    being trusted."""
    unknown_kid_cooldown: Annotated[float, Field(ge=0)] = 5.0
    """A token naming an unknown key triggers a re-fetch at once, but at most once per this many
    seconds per issuer, so junk tokens cannot hammer the provider."""
    max_stale: Annotated[float, Field(gt=0)] | None = 86400.0
    """While the provider is unreachable, cached keys keep working for this long after the last
    successful fetch (then requests fail with 503). None: for as long as the outage lasts."""
    http_timeout: Annotated[float, Field(gt=0)] = 5.0
    max_bytes: Annotated[int, Field(gt=0)] = 1024 * 1024
    """A discovery document or key set larger than this is refused."""


class AuthConfig(_Strict):
    issuers: tuple[IssuerConfig, ...] = ()
    api_keys: ApiKeysConfig = ApiKeysConfig()
    jwks: JwksConfig = JwksConfig()

    @model_validator(mode="after")
    def _unique_issuers(self) -> AuthConfig:
        seen: set[str] = set()
        for issuer in self.issuers:
            if issuer.issuer in seen:
                raise ValueError(
                    f"issuer {issuer.issuer!r} is listed twice: merge the entries (audience accepts a list)"
                )
            seen.add(issuer.issuer)
        return self

    @property
    def configured(self) -> bool:
        """False when neither an issuer nor API keys are set up: loopback callers only, as
        anonymous."""
        return bool(self.issuers) or self.api_keys.enabled
