"""The errors the identity layer answers with, each with a stable code.

Every refusal is an ``AuthenticationError`` (401) carrying ``WWW-Authenticate`` as RFC 6750 has it:
``error= "invalid_token"`` and an ``error_description`` that says precisely what was wrong and what
to do. The token itself, and any value read from it, is never part of a message: a claim is
attacker-controlled text (it could hold a line break meant for a header) and a message may end up in
a log. Messages quote only configured values.

An unreachable provider is a ``ServiceUnavailable`` (503), never a silent 401.
"""

from __future__ import annotations

import re

from clearance.exceptions import AuthenticationError, ServiceUnavailable

REALM = "clearance"

# Stable codes (the OpenAI error body's ``code``, logs and audit records use them).
MISSING_CREDENTIALS = "missing_credentials"
LOOPBACK_ONLY = "loopback_only"
MALFORMED_TOKEN = "malformed_token"  # noqa: S105 # an error code, not a secret
UNKNOWN_ISSUER = "unknown_issuer"
DISALLOWED_ALGORITHM = "disallowed_algorithm"
UNKNOWN_KEY = "unknown_key"
INVALID_SIGNATURE = "invalid_signature"
TOKEN_EXPIRED = "token_expired"  # noqa: S105 # an error code, not a secret
TOKEN_NOT_YET_VALID = "token_not_yet_valid"  # noqa: S105 # an error code, not a secret
WRONG_AUDIENCE = "wrong_audience"
MISSING_CLAIM = "missing_claim"
CLIENT_NOT_ALLOWED = "client_not_allowed"
DOMAIN_NOT_ALLOWED = "domain_not_allowed"
MISSING_GROUPS_CLAIM = "missing_groups_claim"
INVALID_GROUPS_CLAIM = "invalid_groups_claim"
GROUP_OVERAGE = "group_overage"
API_KEYS_DISABLED = "api_keys_disabled"
UNKNOWN_API_KEY = "unknown_api_key"
API_KEY_EXPIRED = "api_key_expired"
API_KEY_REVOKED = "api_key_revoked"
IDP_UNAVAILABLE = "idp_unavailable"
KEY_STORE_UNAVAILABLE = "key_store_unavailable"

_UNSAFE = re.compile(r'[^\x20-\x7e]|["\\]')


def _quoted(text: str) -> str:
    """A header quoted-string: no control characters, quotes or backslashes, whatever a message
    holds."""
    return _UNSAFE.sub("'", text)


def invalid_token(code: str, description: str) -> AuthenticationError:
    """A 401 for a credential that was presented but is not acceptable."""
    header = f'Bearer realm="{REALM}", error="invalid_token", error_description="{_quoted(description)}"'
    return AuthenticationError(description, code=code, headers={"WWW-Authenticate": header})


def _no_credential(code: str, message: str) -> AuthenticationError:
    # RFC 6750: a request that brought no credential gets the challenge without an error code.
    return AuthenticationError(message, code=code, headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'})


def missing_credentials() -> AuthenticationError:
    return _no_credential(
        MISSING_CREDENTIALS,
        "this gateway needs a credential: send 'Authorization: Bearer <token>' "
        "(an access token from your identity provider, `clearance token`, or an API key)",
    )


def loopback_only() -> AuthenticationError:
    return _no_credential(
        LOOPBACK_ONLY,
        "no authentication is configured on this gateway, so it serves loopback callers only: "
        "configure auth.issuers or auth.api_keys to serve other hosts",
    )


def idp_unavailable(issuer: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"the signing keys of {issuer} cannot be fetched (the identity provider is unreachable) "
        "and the "
        "token's key is not cached: retry shortly",
        code=IDP_UNAVAILABLE,
        headers={"Retry-After": "5"},
    )
