"""API keys to identities (``ApiKeyAuthenticator``), with last-used times written in batches.

Every request reads the key's row (revocation takes effect at once, even from another process), but
last-used times are kept in memory and written at most once per ``last_used_resolution`` seconds for
all keys together, so the table does not take one write per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import sqlalchemy as sa

from clearance.auth import errors
from clearance.auth.keys import ApiKeyStore
from clearance.exceptions import ServiceUnavailable
from clearance.models import Identity

log = logging.getLogger("clearance.auth.keys")

KEY_ISSUER = "clearance:api-key"


class ApiKeyAuthenticator:
    def __init__(
        self,
        store: ApiKeyStore,
        *,
        last_used_resolution: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._resolution = last_used_resolution
        self._clock = clock
        self._pending: dict[str, float] = {}
        self._flushed_at = clock()
        self._flush_lock = asyncio.Lock()

    async def start(self) -> None:
        await asyncio.to_thread(self.store.create_tables)

    async def close(self) -> None:
        await self.flush()
        self.store.close()

    async def authenticate(self, raw: str) -> Identity:
        try:
            record = await asyncio.to_thread(self.store.find, raw)
        except sa.exc.SQLAlchemyError as exc:
            log.error("API key store unavailable", extra={"error": type(exc).__name__})
            raise ServiceUnavailable(
                "the API key store is unavailable: retry shortly",
                code=errors.KEY_STORE_UNAVAILABLE,
            ) from None
        if record is None:
            raise errors.invalid_token(
                errors.UNKNOWN_API_KEY,
                "the API key is not known to this gateway: check it was copied whole, "
                "or create one with `clearance keys create`",
            )
        now = self._clock()
        status = record.status(now)
        if status == "revoked":
            raise errors.invalid_token(
                errors.API_KEY_REVOKED,
                f"API key {record.key_id} was revoked: ask its owner for a new one",
            )
        if status == "expired":
            raise errors.invalid_token(
                errors.API_KEY_EXPIRED,
                f"API key {record.key_id} has expired: create a new one with `clearance keys create`",
            )
        await self._note_use(record.key_id, now)
        return Identity(
            subject=record.owner,
            kind="service",
            issuer=KEY_ISSUER,
            name=f"{record.label} ({record.key_id})" if record.label else record.key_id,
            groups=record.groups,
            key_id=record.key_id,
        )

    async def _note_use(self, key_id: str, now: float) -> None:
        self._pending[key_id] = now
        if now - self._flushed_at >= self._resolution:
            await self.flush()

    async def flush(self) -> None:
        """Write pending last-used times now (also called at close)."""
        async with self._flush_lock:
            pending, self._pending = self._pending, {}
            self._flushed_at = self._clock()
            if not pending:
                return
            try:
                await asyncio.to_thread(self.store.touch, pending)
            except sa.exc.SQLAlchemyError as exc:
                # Losing a last-used time is harmless; failing the request over it is not.
                log.warning("last-used times not recorded", extra={"error": type(exc).__name__})
