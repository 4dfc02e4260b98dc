"""Reading the audit trail back: filtered pages, newest first, and a stream of every matching record, oldest first.

Both are keyset queries on the record id (``WHERE id < :after ORDER BY id DESC LIMIT n``), never ``OFFSET``: a page
costs the same at the end of a big trail as at its start, and a stream holds one page at a time, however long the
trail (``iter_records``). The filters on JSON columns (a group among the caller's groups, a type among the findings)
are the dialect's own JSON functions, so a page is filled in SQL, never thinned out afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import BindParameter, ColumnElement, Engine, Select, bindparam, cast, func, select, text
from sqlalchemy.dialects.postgresql import JSONB

from clearance.db.tables import approval_requests, audit_records

DEFAULT_EXPORT_PAGE = 500
"""Records per query of a stream: the most it holds in memory at once."""


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What a search asks for; every field given must match (``None``: any)."""

    subject: str | None = None
    group: str | None = None
    """One of the caller's groups."""
    model: str | None = None
    level: str | None = None
    decision: str | None = None
    rule: str | None = None
    type: str | None = None
    """An entity type among the findings."""
    since: datetime | None = None
    until: datetime | None = None
    """Records made at or after ``since`` and before ``until``."""
    status: int | None = None
    request_id: str | None = None
    approver: str | None = None
    """The subject of someone who approved the record's approval (``approval_requests.approved_by``)."""


_SQLITE_HAS: Final = {
    "groups": "EXISTS (SELECT 1 FROM json_each(audit_records.groups) AS j WHERE j.value = :has)",
    "findings": "EXISTS (SELECT 1 FROM json_each(audit_records.findings) AS j WHERE j.key = :has)",
}
"""SQLite: an element of the JSON array of groups; a key of the JSON object of findings."""

_SQLITE_APPROVED_BY: Final = (
    "EXISTS (SELECT 1 FROM approval_requests AS a, json_each(a.approved_by) AS j "
    "WHERE a.id = audit_records.approval_id AND j.value = :approver)"
)


def _json_has(column: str, value: str, dialect: str) -> ColumnElement[bool]:
    """Whether the JSON in ``column`` holds ``value``: an element of the groups, a key of the findings."""
    if dialect == "postgresql":
        # jsonb_exists: a top-level key of an object, or a string element of an array
        return func.jsonb_exists(cast(audit_records.c[column], JSONB), value).is_(True)
    has: BindParameter[str] = bindparam(f"has_{column}", value)
    return text(_SQLITE_HAS[column].replace(":has", f":has_{column}")).bindparams(has)  # type: ignore[return-value]


def _approved_by(subject: str, dialect: str) -> ColumnElement[bool]:
    """Whether the record's approval was approved by ``subject`` (one of its ``approved_by``): a subquery on the
    approvals table, so a page is still filled in SQL."""
    if dialect == "postgresql":
        approved = (
            select(approval_requests.c.id)
            .where(approval_requests.c.id == audit_records.c.approval_id)
            .where(func.jsonb_exists(cast(approval_requests.c.approved_by, JSONB), subject).is_(True))
        )
        return approved.exists()
    who: BindParameter[str] = bindparam("approver", subject)
    return text(_SQLITE_APPROVED_BY).bindparams(who)  # type: ignore[return-value]


def _where(query: Select[Any], wanted: RecordFilter, dialect: str) -> Select[Any]:
    c = audit_records.c
    equal = {
        "subject": wanted.subject,
        "model": wanted.model,
        "level": wanted.level,
        "decision": wanted.decision,
        "rule": wanted.rule,
        "status": wanted.status,
        "request_id": wanted.request_id,
    }
    for name, value in equal.items():
        if value is not None:
            query = query.where(c[name] == value)
    if wanted.group is not None:
        query = query.where(_json_has("groups", wanted.group, dialect))
    if wanted.type is not None:
        query = query.where(_json_has("findings", wanted.type, dialect))
    if wanted.approver is not None:
        query = query.where(_approved_by(wanted.approver, dialect))
    if wanted.since is not None:
        query = query.where(c.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(c.created_at < wanted.until)
    return query


def page(engine: Engine, wanted: RecordFilter, *, limit: int, before: int | None = None) -> list[dict[str, Any]]:
    """Up to ``limit`` matching records, newest first, each older than record ``before`` when given."""
    query = _where(select(audit_records), wanted, engine.dialect.name)
    if before is not None:
        query = query.where(audit_records.c.id < before)
    query = query.order_by(audit_records.c.id.desc()).limit(limit)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def get(engine: Engine, record_id: int) -> dict[str, Any] | None:
    """One record by its id, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(audit_records).where(audit_records.c.id == record_id)).first()
    return dict(row._mapping) if row is not None else None


def batch(
    engine: Engine, wanted: RecordFilter, *, after: int = 0, through: int | None = None, size: int = DEFAULT_EXPORT_PAGE
) -> list[dict[str, Any]]:
    """Up to ``size`` matching records, oldest first, each newer than record ``after`` and (when given) no newer
    than record ``through``: one keyset step of a stream."""
    query = _where(select(audit_records), wanted, engine.dialect.name).where(audit_records.c.id > after)
    if through is not None:
        query = query.where(audit_records.c.id <= through)
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query.order_by(audit_records.c.id).limit(size))]


def count_upto(engine: Engine, wanted: RecordFilter, *, limit: int) -> tuple[int, int]:
    """How many records match, counted no further than ``limit`` (the cost is bounded), and the newest record id
    now (0: none): a stream ``through`` it sees what was counted, whatever is written meanwhile."""
    with engine.connect() as connection:
        newest = connection.execute(select(func.max(audit_records.c.id))).scalar() or 0
        matching = (
            _where(select(audit_records.c.id), wanted, engine.dialect.name)
            .where(audit_records.c.id <= newest)
            .limit(limit)
            .subquery()
        )
        counted = connection.execute(select(func.count()).select_from(matching)).scalar_one()
    return int(counted), int(newest)


def iter_records(
    engine: Engine,
    wanted: RecordFilter,
    *,
    page_size: int = DEFAULT_EXPORT_PAGE,
    on_page: Callable[[int], None] = lambda n: None,
) -> Iterator[dict[str, Any]]:
    """Every matching record, oldest first, fetched ``page_size`` at a time (``on_page`` is told each page's size):
    memory holds one page, whatever the trail's length. Records written while it runs are included up to the end."""
    after = 0
    while True:
        rows = batch(engine, wanted, after=after, size=page_size)
        on_page(len(rows))
        yield from rows
        if len(rows) < page_size:
            return
        after = rows[-1]["id"]
