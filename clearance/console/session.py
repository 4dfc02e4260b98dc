"""The console's session: who signed in, when, and when they were last seen, in a signed cookie.

The cookie is signed (itsdangerous, HMAC-SHA256 with the configured ``console.session.secret``), not encrypted: it
holds the identity the provider's ID token described (subject, email, name, groups) and never a token from the
provider. It ends after ``idle_timeout`` without a request and ``absolute_timeout`` after sign-in, whichever comes
first; every request it serves re-issues it with a new "last seen" time. A session's CSRF token is an HMAC of its
random id, so every form of that session carries one a cross-site page cannot know.

The short-lived sign-in cookie (the authorization request's ``state``, ``nonce``, PKCE verifier and where to go
next) is signed with the same key under another salt, and lasts ``SIGN_IN_TIMEOUT``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from itsdangerous import BadSignature, URLSafeSerializer

from clearance.models import Identity

COOKIE: Final = "clearance_console"
SIGN_IN_COOKIE: Final = "clearance_console_signin"
SIGN_IN_TIMEOUT: Final = 600.0
"""Seconds a sign-in may take at the provider before its state is refused."""
MIN_SECRET_CHARS: Final = 32

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class ConsoleSession:
    sid: str
    identity: Identity
    signed_in_at: float
    seen_at: float


@dataclass(frozen=True, slots=True)
class SignInState:
    """What the callback checks the provider's answer against."""

    state: str
    nonce: str
    verifier: str
    next: str
    started_at: float


def _identity(data: Any) -> Identity | None:
    if not isinstance(data, dict):
        return None
    subject, kind, groups = data.get("sub"), data.get("kind"), data.get("groups")
    if not isinstance(subject, str) or kind not in ("user", "service", "anonymous") or not isinstance(groups, list):
        return None
    text = {name: data.get(name) for name in ("iss", "email", "name")}
    if any(value is not None and not isinstance(value, str) for value in text.values()):
        return None
    return Identity(
        subject=subject,
        kind=kind,
        issuer=text["iss"],
        email=text["email"],
        name=text["name"],
        groups=tuple(str(g) for g in groups),
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class SessionCodec:
    """Writes and reads the console's cookies; ``clock`` tells the time (tests move it)."""

    def __init__(self, secret: str, *, idle_timeout: float, absolute_timeout: float, clock: Clock) -> None:
        if len(secret) < MIN_SECRET_CHARS:
            raise ValueError(f"the console's session secret must be at least {MIN_SECRET_CHARS} characters")
        self._key = secret.encode()
        self._sessions = URLSafeSerializer(secret, salt="clearance-console-session")
        self._sign_ins = URLSafeSerializer(secret, salt="clearance-console-signin")
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self.clock = clock

    def new(self, identity: Identity) -> ConsoleSession:
        now = self.clock()
        return ConsoleSession(sid=secrets.token_urlsafe(18), identity=identity, signed_in_at=now, seen_at=now)

    def seen(self, session: ConsoleSession) -> ConsoleSession:
        """The session, last seen now."""
        return ConsoleSession(session.sid, session.identity, session.signed_in_at, self.clock())

    def dump(self, session: ConsoleSession) -> str:
        who = session.identity
        return str(
            self._sessions.dumps(
                {
                    "sid": session.sid,
                    "sub": who.subject,
                    "kind": who.kind,
                    "iss": who.issuer,
                    "email": who.email,
                    "name": who.name,
                    "groups": list(who.groups),
                    "at": session.signed_in_at,
                    "seen": session.seen_at,
                }
            )
        )

    def load(self, text: str | None) -> ConsoleSession | None:
        """The session the cookie holds; None when there is none, it is not ours (a bad signature), or it ended."""
        if not text:
            return None
        try:
            data = self._sessions.loads(text)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        identity = _identity(data)
        sid = data.get("sid")
        signed_in_at, seen_at = _number(data.get("at")), _number(data.get("seen"))
        if identity is None or not isinstance(sid, str) or signed_in_at is None or seen_at is None:
            return None
        now = self.clock()
        if now >= signed_in_at + self.absolute_timeout or now >= seen_at + self.idle_timeout:
            return None
        return ConsoleSession(sid, identity, signed_in_at, seen_at)

    def csrf_token(self, session: ConsoleSession) -> str:
        return hmac.new(self._key, b"csrf:" + session.sid.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: ConsoleSession, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token, self.csrf_token(session))

    def dump_sign_in(self, state: SignInState) -> str:
        return str(
            self._sign_ins.dumps(
                {
                    "state": state.state,
                    "nonce": state.nonce,
                    "verifier": state.verifier,
                    "next": state.next,
                    "at": state.started_at,
                }
            )
        )

    def load_sign_in(self, text: str | None) -> SignInState | None:
        """The sign-in in progress; None when there is none, it is not ours, or it took too long."""
        if not text:
            return None
        try:
            data: Mapping[str, Any] = self._sign_ins.loads(text)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        state, nonce, verifier, next_path = (data.get(k) for k in ("state", "nonce", "verifier", "next"))
        started_at = _number(data.get("at"))
        texts = (state, nonce, verifier, next_path)
        if not all(isinstance(text, str) for text in texts):
            return None
        if started_at is None or self.clock() >= started_at + SIGN_IN_TIMEOUT:
            return None
        return SignInState(str(state), str(nonce), str(verifier), str(next_path), started_at)
