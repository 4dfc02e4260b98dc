"""Exporting audit records: the whole filtered set as CSV or JSON Lines, streamed.

``RecordsApi.export`` checks the caller and sizes the set (``PreparedExport``); ``stream_export`` then sends it,
oldest first, one keyset batch of ``batch`` records at a time (``clearance.audit.query.batch``), each encoded and
written before the next is read: memory holds one batch, whatever the set's size. The set ends at the newest record
there was when it was counted, so what is sent is what was counted.

- ``csv``: a header row (the fields of ``RecordSummary``), then one row per record; lists and objects as compact
  JSON, nulls empty. A text cell that a spreadsheet would run as a formula (it starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return) is neutralised with a leading ``'`` (the OWASP advice): a caller's model name
  or user agent never runs in an auditor's spreadsheet.
- ``json``: JSON Lines (``application/x-ndjson``), one ``RecordSummary`` object per line: each line parses alone,
  so a big export can be read as it arrives.

Both are ``Content-Disposition: attachment`` and ``Cache-Control: no-store``. Neither holds a record's text (its
redacted request and answer): ``GET /admin/v1/records/{id}`` has it, record by record.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import orjson
from aiohttp import web
from sqlalchemy import Engine

from clearance.admin.record_resources import RecordSummary
from clearance.audit import query
from clearance.audit.query import RecordFilter

ExportFormat = Literal["csv", "json"]
EXPORT_FORMATS: Final[tuple[ExportFormat, ...]] = ("csv", "json")
COLUMNS: Final = tuple(RecordSummary.model_fields)
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet takes for the start of a formula (OWASP, "CSV Injection")."""
_MEDIA: Final = {"csv": "text/csv", "json": "application/x-ndjson"}
_SUFFIX: Final = {"csv": "csv", "json": "jsonl"}


@dataclass(frozen=True, slots=True)
class PreparedExport:
    """An export checked and sized: the format, the filter (already narrowed to what the caller may see), the newest
    record it goes up to, and the records per query."""

    format: str
    wanted: RecordFilter
    through: int
    batch: int = query.DEFAULT_EXPORT_PAGE

    @property
    def media_type(self) -> str:
        return _MEDIA[self.format]

    @property
    def file_name(self) -> str:
        return f"clearance-records.{_SUFFIX[self.format]}"


def neutralised(text: str) -> str:
    """A text cell a spreadsheet will show, never run."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return neutralised(value)
    return neutralised(orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def csv_rows(rows: Iterable[Mapping[str, Any]], *, header: bool) -> bytes:
    """Records as CSV lines (CRLF, as RFC 4180 has them), the header row first when asked."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(COLUMNS)
    for row in rows:
        fields = RecordSummary.of(row).model_dump()
        writer.writerow([_cell(fields[name]) for name in COLUMNS])
    return out.getvalue().encode()


def json_lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    """Records as JSON Lines: one summary object per line."""
    return b"".join(RecordSummary.of(row).model_dump_json().encode() + b"\n" for row in rows)


async def stream_export(request: web.Request, export: PreparedExport, engine: Engine) -> web.StreamResponse:
    """Send a prepared export, batch by batch (see the module docstring)."""
    response = web.StreamResponse(
        headers={
            "Content-Type": f"{export.media_type}; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{export.file_name}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        }
    )
    await response.prepare(request)
    if export.format == "csv":
        await response.write(csv_rows((), header=True))
    after = 0
    while True:
        rows = await asyncio.to_thread(
            query.batch, engine, export.wanted, after=after, through=export.through, size=export.batch
        )
        if rows:
            await response.write(csv_rows(rows, header=False) if export.format == "csv" else json_lines(rows))
        if len(rows) < export.batch:
            break
        after = rows[-1]["id"]
    await response.write_eof()
    return response
