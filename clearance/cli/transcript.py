"""A record as a readable transcript (``clearance audit show``): who asked, what (each message, its findings
highlighted by type), what was found where, what was decided and why, the answer, and the approval's history.

It renders the admin API's record resource (``clearance.admin.record_resources.RecordResource``) as JSON gives it.
The record's text is already redacted: each value found is its type in brackets (``[CREDIT_CARD]``), and those are
what is highlighted, one colour per type; the recorded positions (the JSON path and span of each finding in the
request as forwarded) are listed beside, so a reader sees which message held what.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from clearance.payload.readable import answer_text, parsed_text, request_lines

PALETTE: Final = ("bold red", "bold magenta", "bold yellow", "bold cyan", "bold green", "bold blue")
_MARKER: Final = re.compile(r"\[([A-Z][A-Z0-9_]*)\]")


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%fZ")[:-4] + "Z"


def type_styles(types: Sequence[str]) -> dict[str, str]:
    """A style per entity type, the same for the same set of types."""
    return {kind: PALETTE[i % len(PALETTE)] for i, kind in enumerate(sorted(set(types)))}


def highlighted(text: str, styles: Mapping[str, str]) -> Text:
    """``text`` with each redaction marker of a known type in its type's style (others as they are)."""
    out = Text()
    at = 0
    for match in _MARKER.finditer(text):
        style = styles.get(match.group(1))
        if style is None:
            continue
        out.append(text[at : match.start()])
        out.append(match.group(0), style=style)
        at = match.end()
    out.append(text[at:])
    return out


def _who(record: Mapping[str, Any]) -> Text:
    how = record["auth_method"] or "unauthenticated"
    if record["key_id"]:
        how += f" {record['key_id']}"
    groups = ", ".join(record["groups"]) or "no groups"
    line = f"{record['subject'] or '-'} ({record['identity_kind'] or 'kind not recorded'}, {how}; {groups})"
    if record["email"]:
        line += f" <{record['email']}>"
    line += f" from {record['client_addr'] or '-'}"
    if record["user_agent"]:
        line += f", {record['user_agent']}"
    return Text(f"Who:      {line}")


def _findings(record: Mapping[str, Any], styles: Mapping[str, str]) -> Table:
    table = Table(title="Findings (counts and positions in the request as forwarded; never values)")
    for column in ("type", "count", "where"):
        table.add_column(column, overflow="fold")
    where: dict[str, list[str]] = {}
    for p in record["positions"]:
        where.setdefault(p["type"], []).append(f"{'.'.join(map(str, p['path']))}[{p['start']}:{p['end']}]")
    for kind, count in sorted(record["findings"].items()):
        table.add_row(Text(kind, style=styles.get(kind, "")), str(count), ", ".join(where.get(kind, [])) or "-")
    return table


def _decision(record: Mapping[str, Any]) -> list[Text]:
    lines = [
        Text(f"Decision: {record['decision'] or 'none (refused before the policy decided)'}", style="bold"),
        Text(f"rule:     {record['rule'] or '-'}"),
        Text(f"reasons:  {', '.join(record['reasons']) or '-'}"),
        Text(f"level:    {record['level'] or '-'} (declared: {record['declared_label'] or 'none'})"),
    ]
    masked = ", ".join(f"{t}: {n}" for t, n in sorted(record["masked_request"].items()))
    if masked:
        lines.append(Text(f"masked:   {masked}"))
    lines.append(Text(f"policy:   {record['policy_version'] or '-'}, detectors: {record['detector_version'] or '-'}"))
    return lines


def _approval(approval: Mapping[str, Any]) -> list[RenderableType]:
    if "error" in approval:
        return [Text(f"Approval: not shown ({approval['error']})")]
    head = Text(
        f"Approval {approval['id']}: {approval['state']}, {approval['approvals_given']}/"
        f"{approval['approvals_needed']} of {', '.join(approval['approvers'])}"
    )
    table = Table(title="Approval history")
    for column in ("when", "state", "who", "reason"):
        table.add_column(column, overflow="fold")
    for step in approval["history"]:
        table.add_row(_when(step["at"]), step["state"], step["actor"], step["reason"] or "-")
    return [head, table]


def render_record(record: Mapping[str, Any], approval: Mapping[str, Any] | None = None) -> list[RenderableType]:
    """The transcript of one record, as rich renderables, top to bottom."""
    styles = type_styles([*record["findings"], *(p["type"] for p in record["positions"])])
    out: list[RenderableType] = [
        Text(
            f"Record {record['id']} · {_when(record['created_at'])} · request {record['request_id']}"
            f" · instance {record['instance'] or '-'}",
            style="bold",
        ),
        _who(record),
        Text(
            f"Asked:    {record['method']} {record['endpoint']} model {record['model'] or '-'} "
            f"via {record['upstream'] or '-'}; HTTP {record['status']}"
            f"{' ' + record['error_code'] if record['error_code'] else ''} in {record['latency_ms']:.0f} ms"
        ),
    ]
    request = parsed_text(record["request_text"])
    if request is None:
        out.append(Text(f"Request:  not kept (record mode {record['record_mode'] or '-'})"))
    else:
        out.append(Text("Request:", style="bold"))
        for who, text in request_lines(request) if not isinstance(request, str) else [("(cut)", request)]:
            out.append(Text.assemble(Text(f"  {who}: ", style="dim"), highlighted(text, styles)))
    if record["findings"]:
        out.append(_findings(record, styles))
    out.extend(_decision(record))
    answer = parsed_text(record["response_text"])
    if answer is not None:
        out.append(Text("Answer:", style="bold"))
        text = answer if isinstance(answer, str) else answer_text(answer)
        out.append(Text.assemble(Text("  "), highlighted(text, styles)))
    if record["truncated"]:
        out.append(Text("(text cut at audit.max_text_bytes)", style="dim"))
    if approval is not None:
        out.extend(_approval(approval))
    return out
