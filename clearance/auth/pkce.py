"""Proof Key for Code Exchange (RFC 7636, S256): what binds an authorization code to the client that asked for it.
Both the CLI's ``clearance login`` and the console's sign-in use it."""

from __future__ import annotations

import base64
import hashlib
import secrets


def pkce_pair() -> tuple[str, str]:
    """A new ``(verifier, challenge)``: the challenge goes in the authorization request, the verifier, kept secret
    until then, in the token request."""
    verifier = secrets.token_urlsafe(64)
    return verifier, challenge_of(verifier)


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
