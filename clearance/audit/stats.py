"""What the audit trail holds over a window, counted by the database (``window_stats``): requests, decisions by
action, the entity types found, requests per model and per user, and requests per time bucket by action.

Every figure is a SQL aggregate (``COUNT``, ``SUM`` and ``GROUP BY``), on SQLite and PostgreSQL alike: no record is
pulled into Python, so a window of a million records costs a few indexed scans and returns a few hundred numbers.
The window is ``[since, until)`` on ``created_at`` (as the records search has it). Buckets are ``bucket`` seconds
long and aligned on multiples of it since the epoch (an hour's buckets start on the hour), the first one holding
``since``; a record's bucket is worked out from its whole second, in SQL.

A record without a decision (refused before the policy decided: no credentials, an unknown route) counts under
``NO_DECISION``; one without a subject or a model under ``NONE``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Engine,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    desc,
    func,
    literal_column,
    select,
)
from sqlalchemy.sql.expression import true
from sqlalchemy.sql.functions import count

from clearance.db.tables import audit_records

NO_DECISION: Final = "none"
"""The decision of a record that has none."""
NONE: Final = ""
"""The subject or model of a record that has none."""


@dataclass(frozen=True, slots=True)
class TypeCount:
    type: str
    found: int
    """Findings of this type, all records together."""
    requests: int
    """Records with at least one."""


@dataclass(frozen=True, slots=True)
class Bucket:
    start: int
    """Seconds since the epoch: the bucket is ``[start, start + bucket)``."""
    decisions: Mapping[str, int]
    """Requests per decision (``NO_DECISION`` for none); the bucket's total is their sum."""


@dataclass(frozen=True, slots=True)
class WindowStats:
    """The figures of one window. ``models`` and ``users`` are the ``top`` busiest (most requests first, then by
    name); ``types`` the ``top`` most found."""

    total: int
    decisions: Mapping[str, int]
    types: tuple[TypeCount, ...]
    models: tuple[tuple[str, int], ...]
    users: tuple[tuple[str, int], ...]
    buckets: tuple[Bucket, ...]
    """Every bucket of the window in order, empty ones included."""
    first_record_at: datetime | None = None
    """When the oldest record of the whole trail was made (None: the trail is empty): an empty window then says
    whether there is no traffic at all or none in this window. One indexed read."""


def _in_window(since: datetime, until: datetime) -> ColumnElement[bool]:
    c = audit_records.c
    return and_(c.created_at >= since, c.created_at < until)


def _seconds(dialect: str) -> ColumnElement[int]:
    """A record's time as whole seconds since the epoch."""
    if dialect == "postgresql":
        # bigint: seconds since the epoch outgrow a 32-bit integer in 2038
        return cast(func.floor(func.extract("epoch", audit_records.c.created_at)), BigInteger)
    # SQLite keeps a time as text in UTC; strftime('%s') reads it to whole seconds
    return cast(func.strftime("%s", audit_records.c.created_at), BigInteger)


def _findings(dialect: str, since: datetime, until: datetime, top: int) -> Select[Any]:
    """Per entity type: how many findings, in how many records, the most found first."""
    findings = audit_records.c.findings
    # a record without findings may hold JSON null, which neither dialect's json_each takes: only objects are read
    if dialect == "postgresql":
        objects = case((func.json_typeof(findings) == literal_column("'object'"), findings))
        each = func.json_each_text(objects).table_valued("key", "value", name="j")
    else:
        objects = case((func.json_type(findings) == literal_column("'object'"), findings))
        each = func.json_each(objects).table_valued("key", "value", name="j")
    found = func.sum(cast(each.c.value, Integer)).label("found")
    return (
        select(each.c.key, found, count())
        .select_from(audit_records.join(each, true()))  # a function of the row it joins: lateral on PostgreSQL
        .where(_in_window(since, until))
        .group_by(each.c.key)
        .order_by(desc(found), each.c.key)
        .limit(top)
    )


def _top(column: ColumnElement[Any], since: datetime, until: datetime, top: int) -> Select[str, int]:
    name = func.coalesce(column, literal_column(f"'{NONE}'", String)).label("name")
    n = count().label("n")
    return select(name, n).where(_in_window(since, until)).group_by(name).order_by(desc(n), name).limit(top)


def bucket_starts(since: datetime, until: datetime, bucket: int) -> list[int]:
    """The start of every bucket of ``[since, until)``, aligned on multiples of ``bucket``."""
    first = int(since.timestamp()) // bucket * bucket
    return list(range(first, math.ceil(until.timestamp()), bucket))


def window_stats(engine: Engine, since: datetime, until: datetime, *, bucket: int, top: int = 10) -> WindowStats:
    """The figures of the records made in ``[since, until)`` (aware datetimes), per ``bucket`` seconds."""
    dialect = engine.dialect.name
    c = audit_records.c
    # constants inlined (whole numbers, fixed names), so each grouped expression is the same SQL wherever it is
    decision = func.coalesce(c.decision, literal_column(f"'{NO_DECISION}'")).label("decision")
    starts = bucket_starts(since, until, bucket)
    first = starts[0] if starts else 0
    index = ((_seconds(dialect) - literal_column(str(int(first)))) // literal_column(str(int(bucket)))).label("at")
    with engine.connect() as connection:
        decisions = {
            name: n
            for name, n in connection.execute(
                select(decision, count()).where(_in_window(since, until)).group_by(decision)
            )
        }
        found = connection.execute(_findings(dialect, since, until, top))
        types = tuple(TypeCount(name, int(total), n) for name, total, n in found)
        models = tuple((name, n) for name, n in connection.execute(_top(c.model, since, until, top)))
        users = tuple((name, n) for name, n in connection.execute(_top(c.subject, since, until, top)))
        per_bucket: dict[int, dict[str, int]] = {}
        for at, name, n in connection.execute(
            select(index, decision, count()).where(_in_window(since, until)).group_by(index, decision)
        ):
            per_bucket.setdefault(int(at), {})[name] = n
        oldest = connection.execute(select(func.min(c.created_at))).scalar_one_or_none()
    return WindowStats(
        total=sum(decisions.values()),
        decisions=decisions,
        types=types,
        models=models,
        users=users,
        buckets=tuple(Bucket(start, per_bucket.get(i, {})) for i, start in enumerate(starts)),
        first_record_at=None if oldest is None else _aware(oldest),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite gives a time back without its zone: it was written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
