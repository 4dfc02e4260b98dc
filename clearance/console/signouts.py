"""``SignOuts``: the console sessions signed out before they would have ended, in the gateway's database.

The session cookie is signed, not stored, so deleting the browser's copy at sign-out would leave any copy taken
before it working until its idle or absolute timeout. Each sign-out is kept here (the session's random id and when
it would have ended anyway) and every console request checks it, on whichever instance it lands. A row is useless
once its session would have ended: each sign-out deletes those.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from clearance.db.store import DatabaseStore
from clearance.db.tables import console_signouts


class SignOuts(DatabaseStore):
    """Blocking: the console calls it through ``asyncio.to_thread``."""

    def record(self, sid: str, *, ends_at: float, now: float) -> None:
        """Session ``sid`` is signed out (a second sign-out of it changes nothing); rows past their end are removed."""
        with self._engine.begin() as conn:
            conn.execute(delete(console_signouts).where(console_signouts.c.ends_at < now))
        try:
            with self._engine.begin() as conn:
                conn.execute(console_signouts.insert().values(sid=sid, ends_at=ends_at))
        except IntegrityError:
            pass  # signed out already (two tabs, or a retried form)

    def signed_out(self, sid: str) -> bool:
        with self._engine.connect() as conn:
            found = conn.execute(select(console_signouts.c.sid).where(console_signouts.c.sid == sid)).first()
        return found is not None
