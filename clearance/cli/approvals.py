"""``clearance approvals list|show|approve|deny|cancel|acknowledge``: approval requests on a running gateway,
through its admin API (``/admin/v1/approvals``, ``clearance.admin.approvals``).

The gateway is ``--gateway URL`` (default ``http://127.0.0.1:8080``, or ``$CLEARANCE_GATEWAY``); the credential is
``$CLEARANCE_API_KEY`` if set, else the token ``clearance token`` would print (``clearance login`` first). A refusal
is printed with the API's message and code, and the command exits 1.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import typer
from rich.console import Console
from rich.table import Table

from clearance.approvals.lifecycle import is_approval_id
from clearance.cli import login
from clearance.cli.oauth_flows import LoginError
from clearance.cli.token_file import TokenFileError

approvals_app = typer.Typer(
    help="List, show, approve, deny, cancel and acknowledge approval requests on a running gateway.",
    no_args_is_help=True,
)

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
API = "/admin/v1/approvals"
GATEWAY_OPTION = typer.Option(
    DEFAULT_GATEWAY, "--gateway", envvar="CLEARANCE_GATEWAY", help="The gateway's URL (its admin API)."
)
PROFILE_OPTION = typer.Option("default", "--profile", help=login.PROFILE_HELP)
REASON_OPTION = typer.Option("", "--reason", "-r", help="Why (kept with the approval's history).")


class AdminApiError(Exception):
    """The admin API refused, or could not be reached: its message and code, for the user to act on."""

    def __init__(self, message: str, code: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status

    def __str__(self) -> str:
        where = f", HTTP {self.status}" if self.status is not None else ""
        return f"{self.message} ({self.code}{where})"


async def credential(profile: str) -> str:
    """``$CLEARANCE_API_KEY``, else the login's token (refreshed as ``clearance token`` would)."""
    key = os.environ.get("CLEARANCE_API_KEY")
    if key:
        return key
    try:
        return await login.run_token(profile)
    except (LoginError, TokenFileError) as exc:
        raise AdminApiError(
            f"no credential: set CLEARANCE_API_KEY, or run `clearance login` ({exc})", "missing_credentials"
        ) from None


async def call(
    gateway: str,
    profile: str,
    method: str,
    path: str,
    *,
    json: Mapping[str, Any] | None = None,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One admin API call; the decoded JSON answer, or ``AdminApiError`` with the API's message and code."""
    headers = {"Authorization": f"Bearer {await credential(profile)}"}
    url = gateway.rstrip("/") + path
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session,
            session.request(method, url, headers=headers, json=json, params=params) as response,
        ):
            try:
                body: Any = await response.json(content_type=None)
            except ValueError:
                body = None
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise AdminApiError(f"cannot reach the gateway at {gateway} ({type(exc).__name__})", "unreachable") from None
    if not isinstance(body, dict):
        raise AdminApiError(f"{url} did not answer with JSON: is it a Clearance gateway?", "not_json", status)
    if status >= 400:
        error = body.get("error")
        if isinstance(error, dict):
            raise AdminApiError(str(error.get("message")), str(error.get("code")), status)
        raise AdminApiError(f"the gateway answered HTTP {status}", "http_error", status)
    return body


def _run(coroutine: Any) -> dict[str, Any]:
    try:
        result: dict[str, Any] = asyncio.run(coroutine)
    except AdminApiError as exc:
        typer.echo(f"clearance approvals: {exc}", err=True)
        raise typer.Exit(1) from None
    return result


def _one(approval_id: str, action: str = "") -> str:
    """The admin API path of one approval (and ``action`` on it). An id not of the gateway's shape is refused here,
    before anything is sent: pasted text such as ``apr_X/approve?`` would otherwise turn ``deny`` into approve,
    and ``apr_X/../apr_Y`` decide another approval than the one named."""
    if not is_approval_id(approval_id):
        typer.echo(
            "clearance approvals: that is not an approval id (apr_ and 32 letters, digits, - or _): copy it whole "
            "from `clearance approvals list` (invalid_id)",
            err=True,
        )
        raise typer.Exit(1)
    return f"{API}/{approval_id}" + (f"/{action}" if action else "")


def _when(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def _found(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{kind}: {n}" for kind, n in sorted(counts.items())) or "-"


def _released(approval: Mapping[str, Any]) -> str:
    """Per type, what approving sends to the model: ``CREDIT_CARD unmasked, EMAIL_ADDRESS partial``."""
    released: Mapping[str, str] = approval.get("released_as") or {}
    return ", ".join(f"{kind} {how}" for kind, how in sorted(released.items())) or "not recorded"


def _given(approval: Mapping[str, Any]) -> str:
    return f"{approval['approvals_given']}/{approval['approvals_needed']}"


def _escalation(a: Mapping[str, Any]) -> str:
    if not a["escalate_to"]:
        return "-"
    groups = ", ".join(a["escalate_to"])
    if a["escalated_at"] is not None:
        return f"escalated to {groups} at {_when(a['escalated_at'])}"
    return f"to {groups} at {_when(a['escalate_at'])} if undecided"


def _review(a: Mapping[str, Any]) -> str:
    if not a["break_glass"]:
        return "no"
    if a["review"] == "acknowledged":
        return f"yes; acknowledged by {a['reviewed_by']} at {_when(a['reviewed_at'])}: {a['review_reason']}"
    return "yes; review pending: `clearance approvals acknowledge ID --reason ...`"


def print_list(console: Console, page: Mapping[str, Any]) -> None:
    table = Table(title="Approvals")
    for column in ("ID", "State", "Requester", "Model", "Rule", "Found", "Approvals", "Expires"):
        table.add_column(column, no_wrap=column == "ID")
    for a in page["data"]:
        table.add_row(
            a["id"],
            a["state"],
            a["requester"]["subject"],
            a["model"],
            a["rule"],
            _found(a["counts"]),
            _given(a),
            _when(a["expires_at"]),
        )
    console.print(table)
    if page["next_cursor"]:
        console.print(f"More: --cursor {page['next_cursor']}")


def print_approval(console: Console, a: Mapping[str, Any]) -> None:
    facts = Table(title=f"Approval {a['id']}", show_header=False)
    facts.add_column("", style="bold")
    facts.add_column("")
    requester = a["requester"]
    rows = [
        ("State", a["state"]),
        ("Requester", f"{requester['subject']} ({requester['kind']}; {', '.join(requester['groups']) or 'no groups'})"),
        ("Model", f"{a['model']} ({a['endpoint']})"),
        ("Rule", f"{a['rule']}: {', '.join(a['reasons'])}"),
        ("Level", a["level"]),
        ("Found", _found(a["counts"])),
        ("If approved, the model gets", _released(a)),
        ("Requester's reason", a["requester_reason"] or "-"),
        ("Approvers", ", ".join(a["approvers"])),
        ("Approvals", f"{_given(a)}" + (f" by {', '.join(a['approved_by'])}" if a["approved_by"] else "")),
        ("Expires", _when(a["expires_at"])),
        ("Reasons asked of", a["reason_from"]),
        ("Escalation", _escalation(a)),
        ("Break-glass", _review(a)),
        ("Preview (masked)", a["preview"]),
    ]
    for name, value in rows:
        facts.add_row(name, value)
    console.print(facts)
    history = Table(title="History")
    for column in ("When", "State", "Who", "Why"):
        history.add_column(column)
    for t in a["history"]:
        history.add_row(_when(t["at"]), t["state"], t["actor"], t["reason"])
    console.print(history)


@approvals_app.command("list")
def list_approvals(
    state: str = typer.Option("pending", help="pending, approved, denied, expired, cancelled, used, or all."),
    review: str | None = typer.Option(
        None, help="pending: break-glass approvals not yet acknowledged (any state; use with --state all)."
    ),
    limit: int = typer.Option(20, min=1, max=100, help="How many per page."),
    cursor: str | None = typer.Option(None, help="The cursor a previous page printed."),
    gateway: str = GATEWAY_OPTION,
    profile: str = PROFILE_OPTION,
) -> None:
    """What you may decide, and your own requests (an auditor: every approval), newest first."""
    params = {"limit": str(limit)}
    if state != "all":
        params["state"] = state
    if review:
        params["review"] = review
    if cursor:
        params["cursor"] = cursor
    print_list(Console(), _run(call(gateway, profile, "GET", API, params=params)))


@approvals_app.command("show")
def show(approval_id: str, gateway: str = GATEWAY_OPTION, profile: str = PROFILE_OPTION) -> None:
    """One approval: what was found, the masked preview, who may decide, and its history."""
    print_approval(Console(), _run(call(gateway, profile, "GET", _one(approval_id))))


def _decided(approval: Mapping[str, Any]) -> None:
    Console().print(f"Approval {approval['id']}: {approval['state']} ({_given(approval)} approvals)")


@approvals_app.command("approve")
def approve(
    approval_id: str, reason: str = REASON_OPTION, gateway: str = GATEWAY_OPTION, profile: str = PROFILE_OPTION
) -> None:
    """Approve (you must be in its approver groups, and not its requester)."""
    body = {"reason": reason}
    _decided(_run(call(gateway, profile, "POST", _one(approval_id, "approve"), json=body)))


@approvals_app.command("deny")
def deny(
    approval_id: str, reason: str = REASON_OPTION, gateway: str = GATEWAY_OPTION, profile: str = PROFILE_OPTION
) -> None:
    """Deny (one denial denies)."""
    _decided(_run(call(gateway, profile, "POST", _one(approval_id, "deny"), json={"reason": reason})))


@approvals_app.command("cancel")
def cancel(
    approval_id: str, reason: str = REASON_OPTION, gateway: str = GATEWAY_OPTION, profile: str = PROFILE_OPTION
) -> None:
    """Withdraw your own pending request."""
    _decided(_run(call(gateway, profile, "DELETE", _one(approval_id), json={"reason": reason})))


@approvals_app.command("acknowledge")
def acknowledge(
    approval_id: str,
    reason: str = typer.Option(..., "--reason", "-r", help="Why the break-glass was fine, or what follows from it."),
    gateway: str = GATEWAY_OPTION,
    profile: str = PROFILE_OPTION,
) -> None:
    """Review a break-glass approval (an auditor, or an approver of its groups; not its requester)."""
    approval = _run(call(gateway, profile, "POST", _one(approval_id, "acknowledge"), json={"reason": reason}))
    Console().print(f"Approval {approval['id']}: break-glass acknowledged by {approval['reviewed_by']}")


def register(app: typer.Typer) -> None:
    app.add_typer(approvals_app, name="approvals")
