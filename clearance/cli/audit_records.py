"""``clearance audit search|show|export|replay``: read the audit trail back, and send a recorded request again.

Where each command reads, and why:

- ``search`` and ``show`` call the gateway's admin API (``--gateway``, the credential of ``clearance approvals``:
  ``$CLEARANCE_API_KEY`` or the login's token). That is what someone who is not the database's operator can use:
  an auditor sees every record, anyone else their own (``--mine``), and the gateway applies that rule, not the CLI.
- ``export`` reads the database (``--db URL``, else ``database.url`` from ``--config``, as ``clearance audit verify``
  does) and streams every matching record, oldest first, a page at a time (``clearance.audit.query.iter_records``):
  a trail of millions of records is written in constant memory, with no page size or rate limit of an API between.
- ``replay ID`` reads the record through the admin API, sends its request as forwarded to the gateway again, with the
  caller's credential, through the same pipeline (so it is decided, masked and recorded anew, under today's policy)
  and prints a unified diff of the recorded answer against the new one. The recorded answer is redacted
  (``[EMAIL_ADDRESS]``): a value the model repeats shows in the diff as the caller now receives it. A record kept
  in ``metadata`` mode has no request to replay.
"""

from __future__ import annotations

import asyncio
import csv
import difflib
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, TextIO

import aiohttp
import orjson
import typer
from rich.console import Console
from rich.table import Table

from clearance.admin.record_resources import RecordResource
from clearance.admin.records import parse_time
from clearance.audit.query import DEFAULT_EXPORT_PAGE, RecordFilter, iter_records
from clearance.cli import approvals as api
from clearance.cli.keys import CONFIG_OPTION, DB_OPTION
from clearance.cli.transcript import render_record
from clearance.config import load_config
from clearance.db.engine import make_engine
from clearance.endpoints import MODEL_ENDPOINTS
from clearance.exceptions import ClearanceError, ConfigError
from clearance.payload.readable import answer_text

RECORDS = "/admin/v1/records"
ExportFormat = Literal["jsonl", "csv"]
_ENDPOINTS = {e.name: e for e in MODEL_ENDPOINTS}
REPLAY_TIMEOUT = 300.0
"""Seconds a replayed request may take (a model may be slow; an approval may hold it)."""

SUBJECT = typer.Option(None, "--user", help="The caller's subject.")
GROUP = typer.Option(None, "--group", help="One of the caller's groups.")
MODEL = typer.Option(None, "--model")
LEVEL = typer.Option(None, "--level", help="The detected classification level.")
DECISION = typer.Option(None, "--decision", help="allow, mask, require_approval or block.")
RULE = typer.Option(None, "--rule", help="The id of the rule that decided (default: none matched).")
TYPE = typer.Option(None, "--type", help="An entity type among the findings, e.g. CREDIT_CARD.")
SINCE = typer.Option(None, "--since", help="Made at or after: ISO 8601, seconds since the epoch, or 7d / 12h ago.")
UNTIL = typer.Option(None, "--until", help="Made before: ISO 8601, seconds since the epoch, or 7d / 12h ago.")
STATUS = typer.Option(None, "--status", help="The HTTP status answered.")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(f"clearance audit: {message}", err=True)
    return typer.Exit(code)


def time_bound(text: str | None, name: str, *, now: float) -> str | None:
    """A time as the API takes it (ISO 8601 in UTC): ``7d``, ``12h``, ``30m`` mean that long before ``now``."""
    if text is None:
        return None
    units = {"d": 86400, "h": 3600, "m": 60}
    if text[:-1].isdigit() and text[-1:] in units:
        return datetime.fromtimestamp(now - int(text[:-1]) * units[text[-1]], UTC).isoformat()
    try:
        return parse_time(text, name).isoformat()
    except ClearanceError as exc:
        raise _fail(f"--{name}: {exc.message}", 2) from None


def filter_params(**given: Any) -> dict[str, str]:
    """The admin API's query parameters for the options given (those left out are not sent)."""
    return {name: str(value) for name, value in given.items() if value is not None}


def database_url(db: str | None, config: Path) -> str:
    if db is not None:
        return db
    try:
        return load_config(config).database.url
    except ConfigError as exc:
        raise _fail(f"{exc.message} (or pass --db URL)", 2) from None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    return str(value)


def write_export(rows: Iterable[Mapping[str, Any]], out: TextIO, fmt: ExportFormat) -> int:
    """Each row as a whole record (``RecordResource``): a JSON object per line, or a CSV row (lists and objects as
    JSON) under a header. One row at a time: what ``rows`` streams is written as it comes. The count written."""
    columns = list(RecordResource.model_fields)
    writer = csv.DictWriter(out, fieldnames=columns) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    written = 0
    for row in rows:
        resource = RecordResource.of(row)
        if writer is None:
            out.write(resource.model_dump_json() + "\n")
        else:
            data = resource.model_dump(mode="json")
            writer.writerow({name: _cell(data[name]) for name in columns})
        written += 1
    return written


def _search_table(records: list[dict[str, Any]]) -> Table:
    table = Table(title="Records, newest first", title_justify="left")
    for column in ("id", "time", "subject", "model", "decision", "rule", "level", "findings", "status"):
        table.add_column(column, overflow="fold")
    for record in records:
        found = ", ".join(f"{t}: {n}" for t, n in sorted(record["findings"].items())) or "-"
        table.add_row(
            str(record["id"]),
            api._when(record["created_at"]),
            record["subject"] or "-",
            record["model"] or "-",
            record["decision"] or "-",
            record["rule"] or "-",
            record["level"] or "-",
            found,
            str(record["status"]),
        )
    return table


def _record_path(record_id: str) -> str:
    if not record_id.isdigit():
        raise _fail("a record id is a number: copy it from `clearance audit search` (invalid_id)")
    return f"{RECORDS}/{int(record_id)}"


def _call(gateway: str, profile: str, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        result: dict[str, Any] = asyncio.run(api.call(gateway, profile, "GET", path, params=params))
    except api.AdminApiError as exc:
        raise _fail(str(exc)) from None
    return result


def replay_body(record: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The gateway path and the body to send again: the request as forwarded, for the model as asked, not streamed
    (the recorded answer of a stream is kept assembled, as one document)."""
    endpoint = _ENDPOINTS.get(record["endpoint"])
    if endpoint is None:
        raise _fail(f"record {record['id']} is of endpoint {record['endpoint']!r}, which cannot be replayed")
    if record["request_text"] is None:
        raise _fail(
            f"record {record['id']} kept no request (record mode {record['record_mode'] or 'none'}): "
            "only records kept in full or masked mode can be replayed"
        )
    body = orjson.loads(record["request_text"])
    if not isinstance(body, dict):
        raise _fail(f"record {record['id']}'s request is not a JSON object")
    if record["model"] is not None:
        body["model"] = record["model"]
    if endpoint.streamable:
        body["stream"] = False
        body.pop("stream_options", None)
    return endpoint.path, body


def answer_diff(recorded: str | None, replayed: Any) -> Iterator[str]:
    """A unified diff of the recorded answer's text against the replayed one's (empty: the same)."""
    before = answer_text(orjson.loads(recorded)) if recorded is not None else ""
    after = answer_text(replayed)
    return difflib.unified_diff(before.splitlines(), after.splitlines(), "recorded", "replayed", lineterm="", n=3)


async def _send(gateway: str, profile: str, path: str, body: Mapping[str, Any]) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {await api.credential(profile)}", "User-Agent": "clearance-audit-replay"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=REPLAY_TIMEOUT)) as session,
            session.post(gateway.rstrip("/") + path, json=body, headers=headers) as response,
        ):
            raw = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise api.AdminApiError(
            f"cannot reach the gateway at {gateway} ({type(exc).__name__})", "unreachable"
        ) from None
    try:
        return status, orjson.loads(raw)
    except orjson.JSONDecodeError:
        return status, raw.decode("utf-8", "replace")


def register(audit_app: typer.Typer) -> None:
    """Adds search, show, export and replay to ``clearance audit``."""

    @audit_app.command("search")
    def search(
        user: str | None = SUBJECT,
        group: str | None = GROUP,
        model: str | None = MODEL,
        level: str | None = LEVEL,
        decision: str | None = DECISION,
        rule: str | None = RULE,
        type_: str | None = TYPE,
        since: str | None = SINCE,
        until: str | None = UNTIL,
        status: int | None = STATUS,
        mine: bool = typer.Option(False, "--mine", help="Only your own records (no auditor role needed)."),
        limit: int = typer.Option(20, "--limit", min=1, max=100),
        cursor: str | None = typer.Option(None, "--cursor", help="The next page: the cursor the last search printed."),
        as_json: bool = typer.Option(False, "--json", help="Print the API's page as JSON."),
        gateway: str = api.GATEWAY_OPTION,
        profile: str = api.PROFILE_OPTION,
    ) -> None:
        """Records matching every filter given, newest first (the admin API: an auditor sees all, --mine your own)."""
        now = time.time()
        params = filter_params(
            subject=user,
            group=group,
            model=model,
            level=level,
            decision=decision,
            rule=rule,
            type=type_,
            since=time_bound(since, "since", now=now),
            until=time_bound(until, "until", now=now),
            status=status,
            limit=limit,
            cursor=cursor,
            mine="true" if mine else None,
        )
        page = _call(gateway, profile, RECORDS, params)
        if as_json:
            typer.echo(orjson.dumps(page).decode())
            return
        console = Console(width=160)
        console.print(_search_table(page["data"]))
        if page["next_cursor"]:
            console.print(f"more: --cursor {page['next_cursor']}", markup=False)

    @audit_app.command("show")
    def show(
        record_id: str = typer.Argument(..., help="The record's id (from `clearance audit search`)."),
        gateway: str = api.GATEWAY_OPTION,
        profile: str = api.PROFILE_OPTION,
    ) -> None:
        """A record as a transcript: who asked what, the findings highlighted by type, the decision and its reasons,
        the answer, and the approval's history when it asked for one."""
        record = _call(gateway, profile, _record_path(record_id))
        approval = None
        if record.get("approval_id"):
            try:
                approval = asyncio.run(api.call(gateway, profile, "GET", f"{api.API}/{record['approval_id']}"))
            except api.AdminApiError as exc:
                approval = {"error": str(exc)}
        console = Console(width=160)
        for part in render_record(record, approval):
            console.print(part)

    @audit_app.command("export")
    def export(
        fmt: str = typer.Option("jsonl", "--format", help="jsonl or csv."),
        output: Path | None = typer.Option(None, "--output", "-o", help="The file to write (default: stdout)."),
        user: str | None = SUBJECT,
        group: str | None = GROUP,
        model: str | None = MODEL,
        level: str | None = LEVEL,
        decision: str | None = DECISION,
        rule: str | None = RULE,
        type_: str | None = TYPE,
        since: str | None = SINCE,
        until: str | None = UNTIL,
        status: int | None = STATUS,
        page_size: int = typer.Option(DEFAULT_EXPORT_PAGE, "--page-size", min=1, max=10_000),
        db: str | None = DB_OPTION,
        config: Path = CONFIG_OPTION,
    ) -> None:
        """Every matching record, oldest first, streamed from the database in constant memory."""
        if fmt not in ("jsonl", "csv"):
            raise _fail("--format is jsonl or csv", 2)
        now = time.time()
        since_at = time_bound(since, "since", now=now)
        until_at = time_bound(until, "until", now=now)
        wanted = RecordFilter(
            subject=user,
            group=group,
            model=model,
            level=level,
            decision=decision,
            rule=rule,
            type=type_,
            since=parse_time(since_at, "since") if since_at is not None else None,
            until=parse_time(until_at, "until") if until_at is not None else None,
            status=status,
        )
        engine = make_engine(database_url(db, config))
        try:
            rows = iter_records(engine, wanted, page_size=page_size)
            if output is None:
                count = write_export(rows, sys.stdout, fmt)  # type: ignore[arg-type]  # checked above
            else:
                with output.open("w", newline="", encoding="utf-8") as out:
                    count = write_export(rows, out, fmt)  # type: ignore[arg-type]  # checked above
        finally:
            engine.dispose()
        typer.echo(f"{count} records exported", err=True)

    @audit_app.command("replay")
    def replay(
        record_id: str = typer.Argument(..., help="The record's id (from `clearance audit search`)."),
        gateway: str = api.GATEWAY_OPTION,
        profile: str = api.PROFILE_OPTION,
    ) -> None:
        """Send a recorded request again through the gateway, as you, and diff the answer against the recorded one.
        Exits 0 when the answers' text is the same, 3 when it differs."""
        record = _call(gateway, profile, _record_path(record_id))
        path, body = replay_body(record)
        try:
            status, answer = asyncio.run(_send(gateway, profile, path, body))
        except api.AdminApiError as exc:
            raise _fail(str(exc)) from None
        typer.echo(f"record {record['id']}: recorded HTTP {record['status']}, replayed HTTP {status}")
        lines = list(answer_diff(record["response_text"], answer))
        if not lines:
            typer.echo("the answer is the same as the recorded one")
            return
        for line in lines:
            typer.echo(line)
        raise typer.Exit(3)
