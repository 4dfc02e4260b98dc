"""Gateway-issued API keys for scripts and agents (``ApiKeyStore``).

A key looks like ``clr_<id>_<secret>``: ``id`` (12 hex digits) is public and names the key in
listings and ``clearance keys revoke``; ``secret`` is 32 random bytes. Only the SHA-256 of the whole
key is stored. A fast hash is right here, unlike for passwords: the key has 256 bits of entropy, so
there is nothing to guess offline, and a lookup by hash costs one indexed read instead of a
deliberately slow computation on every request.

The table (``clearance.db.tables.api_keys``) lives in the gateway's database and is created by its
Alembic history (``clearance.db.migrate``), like every other table.
Times are Unix seconds (floats) so that SQLite and PostgreSQL store the same thing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from clearance.db.store import DatabaseStore
from clearance.db.tables import api_keys

PREFIX = "clr_"
_KEY_RE = re.compile(r"^clr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_ID_RE = re.compile(r"^[0-9a-f]{12}$")
_DURATION = re.compile(r"^(\d+)([hdw])$")
_UNIT_SECONDS = {"h": 3600, "d": 86400, "w": 7 * 86400}
DEFAULT_EXPIRY = "90d"
EXPIRY_FORMS = "90d, 12h, 2w, a date such as 2026-12-31, or never"


def parse_expiry(value: str, *, now: float) -> float | None:
    """When a key given ``value`` expires: ``90d``, ``12h``, ``2w``, an ISO date (``2026-12-31``, midnight UTC) or
    ``never`` (None). ``ValueError`` for anything else, or a time not after ``now``. The CLI and the admin API both
    read an expiry through this."""
    if value == "never":
        return None
    match = _DURATION.match(value)
    if match:
        return now + int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"expected {EXPIRY_FORMS}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if when.timestamp() <= now:
        raise ValueError("the expiry is in the past")
    return when.timestamp()


def is_key_id(text: str) -> bool:
    """Whether ``text`` has the shape of a key's public id (12 hex digits)."""
    return _ID_RE.match(text) is not None


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def looks_like_key(token: str) -> bool:
    return token.startswith(PREFIX)


def new_key() -> tuple[str, str]:
    """A fresh ``(key_id, raw key)``."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    """What the store knows about a key: never the key itself."""

    key_id: str
    owner: str
    label: str
    groups: tuple[str, ...]
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None

    def status(self, now: float) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and now >= self.expires_at:
            return "expired"
        return "active"


def _record(row: Any) -> ApiKeyRecord:
    return ApiKeyRecord(
        key_id=row.key_id,
        owner=row.owner,
        label=row.label,
        groups=tuple(orjson.loads(row.groups)),
        created_at=row.created_at,
        expires_at=row.expires_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


class ApiKeyStore(DatabaseStore):
    """The key table in a SQL database. Blocking: the gateway calls it through
    ``asyncio.to_thread``."""

    def create(
        self,
        *,
        owner: str,
        groups: Iterable[str] = (),
        expires_at: float | None,
        label: str = "",
        now: float | None = None,
    ) -> tuple[ApiKeyRecord, str]:
        """Store a new key; returns its record and the raw key, which exists nowhere else after
        this."""
        if not owner:
            raise ValueError("an API key needs an owner")
        key_id, raw = new_key()
        created = time.time() if now is None else now
        row = {
            "key_id": key_id,
            "key_hash": hash_key(raw),
            "owner": owner,
            "label": label,
            "groups": orjson.dumps(list(groups)).decode(),
            "created_at": created,
            "expires_at": expires_at,
        }
        with self._engine.begin() as conn:
            conn.execute(api_keys.insert().values(**row))
        record = ApiKeyRecord(key_id, owner, label, tuple(groups), created, expires_at, None, None)
        return record, raw

    def list(self) -> list[ApiKeyRecord]:
        with self._engine.connect() as conn:
            rows = conn.execute(api_keys.select().order_by(api_keys.c.created_at)).all()
        return [_record(r) for r in rows]

    def get(self, key_id: str) -> ApiKeyRecord | None:
        """The record of the key with this public id, or None."""
        with self._engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.key_id == key_id)).one_or_none()
        return None if row is None else _record(row)

    def revoke(self, key_id: str, *, now: float | None = None) -> bool:
        """Revoke a key by its id; False if there is no such key (or it was revoked already)."""
        when = time.time() if now is None else now
        with self._engine.begin() as conn:
            result = conn.execute(
                api_keys.update()
                .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=when)
            )
        return bool(result.rowcount)

    def find(self, raw: str) -> ApiKeyRecord | None:
        """The record of this raw key, or None. The raw key is hashed first and never leaves this
        call."""
        match = _KEY_RE.match(raw)
        if match is None:
            return None
        digest = hash_key(raw)
        with self._engine.connect() as conn:
            row = conn.execute(api_keys.select().where(api_keys.c.key_hash == digest)).one_or_none()
        if row is None or not hmac.compare_digest(row.key_hash, digest):
            return None
        if row.key_id != match.group(1):
            return None
        return _record(row)

    def touch(self, last_used: dict[str, float]) -> None:
        """Record last-used times for several keys in one transaction."""
        if not last_used:
            return
        with self._engine.begin() as conn:
            conn.execute(
                api_keys.update()
                .where(api_keys.c.key_id == sa.bindparam("kid"))
                .values(last_used_at=sa.bindparam("used")),
                [{"kid": k, "used": v} for k, v in last_used.items()],
            )
