"""Exporting the audit trail: CSV cells a spreadsheet would run neutralised, the set streamed in keyset batches
(never whole in memory), the list's filters and roles, and a set over ``audit.export_max_rows`` refused before
anything is sent; on the real gateway, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine

from clearance.admin.record_export import COLUMNS, PreparedExport, csv_rows, neutralised, stream_export
from clearance.admin.records import RECORDS_API
from clearance.audit import query
from clearance.audit.query import RecordFilter
from clearance.exceptions import InvalidRequest
from clearance.models import Identity
from tests.admin import test_records
from tests.admin.test_record_resources import record_row
from tests.admin.test_records import ASKED, Trail
from tests.audit import conftest as audit_conftest
from tests.audit import test_query
from tests.audit.conftest import trail_record

trail = test_records.trail
"""The records tests' gateway: one record per request of ``ASKED``."""
trail_url = audit_conftest.trail_url
engine = test_query.engine
"""The query tests' trail of 24 records, on each kind of database."""

API = "/admin/v1/records/export"
NASTY = ['=HYPERLINK("http://127.0.0.1/x","y")', "+SUM(1)", "-2+3", "@SUM(1)", "\tcmd", "\rcmd"]


@pytest.mark.parametrize("text", NASTY)
def test_when_a_cell_starts_like_a_formula_then_it_is_neutralised(text: str) -> None:
    assert neutralised(text) == "'" + text


@pytest.mark.parametrize("text", ["llama", "a=b", "", "'quoted", " =space first"])
def test_when_a_cell_does_not_start_like_a_formula_then_it_is_left_as_it_is(text: str) -> None:
    assert neutralised(text) == text


def test_when_records_are_written_as_csv_then_every_text_cell_is_safe_and_lists_are_json() -> None:
    nasty = replace(
        trail_record(1), user_agent=NASTY[0], model=NASTY[1], subject=NASTY[3], reasons=("=evil",), groups=("g",)
    )
    row = record_row(nasty)

    lines = list(csv.reader(io.StringIO(csv_rows([row], header=True).decode())))

    assert lines[0] == list(COLUMNS)
    cells = dict(zip(COLUMNS, lines[1], strict=True))
    assert cells["user_agent"] == "'" + NASTY[0]
    assert (cells["model"], cells["subject"]) == ("'+SUM(1)", "'@SUM(1)")
    assert (cells["groups"], cells["reasons"], cells["findings"]) == ('["g"]', '["=evil"]', '{"EMAIL_ADDRESS":1}')
    assert (cells["status"], cells["stream"], cells["email"]) == ("200", "false", "")
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in lines[1])


async def _get(trail: Trail, path: str, who: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = trail.people.headers(who) if who else {}
    async with aiohttp.ClientSession() as session, session.get(trail.url + path, headers=headers) as response:
        return response.status, dict(response.headers), await response.read()


async def test_when_an_auditor_exports_csv_then_it_is_an_attachment_with_a_header_and_each_record_oldest_first(
    trail: Trail,
) -> None:
    status, headers, body = await _get(trail, API + "?format=csv", "audrey")

    lines = list(csv.DictReader(io.StringIO(body.decode())))
    assert status == 200
    assert headers["Content-Type"] == "text/csv; charset=utf-8"
    assert headers["Content-Disposition"] == 'attachment; filename="clearance-records.csv"'
    assert headers["Cache-Control"] == "no-store"
    assert [line["subject"] for line in lines] == list(ASKED)
    assert "request_text" not in lines[0]


async def test_when_an_export_is_filtered_then_it_holds_what_the_list_holds(trail: Trail) -> None:
    _, _, body = await _get(trail, API + "?format=json&subject=sam&decision=allow", "audrey")
    _, _, listed = await _get(trail, "/admin/v1/records?subject=sam&decision=allow", "audrey")

    exported = [orjson.loads(line) for line in body.splitlines()]
    assert exported == list(reversed(orjson.loads(listed)["data"]))
    assert [r["subject"] for r in exported] == ["sam", "sam", "sam"]


@pytest.mark.parametrize(
    ("who", "query", "expected"), [("sam", "?mine=true", 3), ("nobody", "?mine=true&format=json", 1)]
)
async def test_when_anyone_exports_their_own_then_they_get_exactly_their_records(
    trail: Trail, who: str, query: str, expected: int
) -> None:
    status, _, body = await _get(trail, API + query, who)

    rows = body.decode().strip().splitlines()
    assert status == 200
    assert len(rows) == expected + (0 if "json" in query else 1)
    assert all(who in row for row in rows[-expected:])


@pytest.mark.parametrize(("who", "code"), [("sam", 403), ("alice", 403), (None, 401)])
async def test_when_someone_without_the_auditor_role_exports_everything_then_it_is_refused(
    trail: Trail, who: str | None, code: int
) -> None:
    status, headers, body = await _get(trail, API, who)

    assert status == code
    assert "Content-Disposition" not in headers
    assert orjson.loads(body)["error"]["code"] in ("auditor_role_required", "missing_credentials")


@pytest.mark.parametrize("query", ["?format=xlsx", "?mine=perhaps", "?since=yesterday"])
async def test_when_the_query_is_wrong_then_it_is_a_400(trail: Trail, query: str) -> None:
    status, _, body = await _get(trail, API + query, "audrey")

    assert status == 400
    assert orjson.loads(body)["error"]["param"] == query[1:].split("=")[0]


async def test_when_the_set_is_larger_than_the_maximum_then_it_is_refused_before_anything_is_sent(
    trail: Trail,
) -> None:
    api = trail.app[RECORDS_API]
    small = replace(api, export_max_rows=len(ASKED) - 1)

    with pytest.raises(InvalidRequest) as refused:
        await small.export(Identity("audrey", groups=("audit",)), {})
    fits = await small.export(Identity("audrey", groups=("audit",)), {"subject": "sam"})

    assert refused.value.code == "export_too_large"
    assert "audit.export_max_rows" in refused.value.message
    assert (fits.format, fits.wanted.subject) == ("csv", "sam")


async def test_when_a_set_is_streamed_then_it_is_read_one_batch_at_a_time_up_to_the_record_counted(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    read = query.batch

    def spy(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        rows = read(*args, **kwargs)
        sizes.append(len(rows))
        return rows

    monkeypatch.setattr(query, "batch", spy)
    counted, newest = query.count_upto(engine, RecordFilter(), limit=100)

    async def handler(request: web.Request) -> web.StreamResponse:
        return await stream_export(request, PreparedExport("json", RecordFilter(), through=newest - 1, batch=5), engine)

    app = web.Application()
    app.router.add_get("/export", handler)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/export")
        lines = (await response.read()).splitlines()

    assert counted == 24
    assert sizes == [5, 5, 5, 5, 3]  # never more than a batch in memory; through the last record but one
    assert [orjson.loads(line)["request_id"] for line in lines] == [f"req-{i}" for i in range(23)]
