"""Reading a record's sealed originals, recording each reveal of them, and erasing them: the SQL side of
``audit.originals`` (``audit_originals``, ``audit_reveals``).

A reveal is recorded before the originals are opened: an auditor who read them is in ``audit_reveals`` whatever
happened next. Erasing deletes the envelope, the only place the record's data key lives (wrapped): the content is
gone for good, while the record's row, with the envelope's hash its leaf covers, stays as it was, so
``clearance audit verify`` still finds nothing to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Engine

from clearance.audit.originals import envelope_sha256
from clearance.db.tables import audit_originals, audit_records, audit_reveals
from clearance.exceptions import DecryptionFailed, NotFound


@dataclass(frozen=True, slots=True)
class StoredOriginals:
    """A record's envelope, with the request id it is bound to."""

    record_id: int
    request_id: str
    kek_id: str
    envelope: bytes


@dataclass(frozen=True, slots=True)
class Reveal:
    """One reveal: who read which record's originals, when, and why (the reason as stored: redacted)."""

    id: int
    record_id: int
    revealed_at: datetime
    subject: str
    email: str | None
    reason: str


def _no_record(record_id: int) -> NotFound:
    return NotFound(
        f"there is no audit record {record_id}: check the id (the record's number, as `clearance audit search` shows)",
        code="record_not_found",
    )


def stored_originals(engine: Engine, record_id: int) -> StoredOriginals:
    """The record's envelope, checked against the hash its row keeps. ``NotFound`` (``record_not_found``,
    ``no_originals``, ``originals_erased``) when there is none to open; ``DecryptionFailed`` when the envelope is not
    the one the record sealed (the row's hash, covered by its leaf, says which)."""
    with engine.connect() as connection:
        record = connection.execute(
            select(audit_records.c.request_id, audit_records.c.originals_sha256).where(audit_records.c.id == record_id)
        ).first()
        if record is None:
            raise _no_record(record_id)
        if record.originals_sha256 is None:
            raise NotFound(
                f"audit record {record_id} keeps no originals: its record mode did not keep them, or audit.originals "
                "was off",
                code="no_originals",
            )
        sealed = connection.execute(
            select(audit_originals.c.kek_id, audit_originals.c.envelope).where(audit_originals.c.record_id == record_id)
        ).first()
    if sealed is None:
        raise NotFound(f"audit record {record_id}'s originals were erased", code="originals_erased")
    envelope = bytes(sealed.envelope)
    if envelope_sha256(envelope) != record.originals_sha256:
        raise DecryptionFailed(
            f"record {record_id}: the stored originals are not the ones the record sealed (their hash differs)"
        )
    return StoredOriginals(record_id, record.request_id, sealed.kek_id, envelope)


def record_reveal(
    engine: Engine, record_id: int, *, subject: str, email: str | None, reason: str, now: datetime | None = None
) -> Reveal:
    """Record that ``subject`` is revealing ``record_id``'s originals, for ``reason`` (already redacted)."""
    at = now or datetime.now(UTC)
    with engine.begin() as connection:
        reveal_id = connection.execute(
            insert(audit_reveals)
            .values(record_id=record_id, revealed_at=at, subject=subject, email=email, reason=reason)
            .returning(audit_reveals.c.id)
        ).scalar_one()
    return Reveal(int(reveal_id), record_id, at, subject, email, reason)


def reveals_of(engine: Engine, record_id: int) -> list[Reveal]:
    """Every reveal of ``record_id``'s originals, oldest first. ``NotFound`` for a record that does not exist."""
    with engine.connect() as connection:
        if connection.execute(select(audit_records.c.id).where(audit_records.c.id == record_id)).first() is None:
            raise _no_record(record_id)
        rows = connection.execute(
            select(audit_reveals).where(audit_reveals.c.record_id == record_id).order_by(audit_reveals.c.id)
        ).all()
    return [
        Reveal(
            row.id,
            row.record_id,
            row.revealed_at if row.revealed_at.tzinfo else row.revealed_at.replace(tzinfo=UTC),
            row.subject,
            row.email,
            row.reason,
        )
        for row in rows
    ]


def erase_originals(engine: Engine, record_id: int) -> bool:
    """Delete a record's sealed originals (retention, a GDPR erasure): whether there were any. The record and its
    leaf stay, and verify."""
    with engine.begin() as connection:
        deleted = connection.execute(delete(audit_originals).where(audit_originals.c.record_id == record_id))
    return bool(deleted.rowcount)
