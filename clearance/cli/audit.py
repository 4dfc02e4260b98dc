"""``clearance audit verify|purge|keygen|reveal|erase``: check the audit trail offline, apply retention, make a
checkpoint signing key, reveal a record's sealed originals, and erase them.

``verify`` reads the database (``--db URL``, else ``database.url`` from ``--config``), the saved checkpoints
(``--checkpoints DIR``, else the configured export directory) and the verifier key (``--key``: the key string, or a
file of key lines), checks every record against the tree and the tree against every checkpoint
(``clearance.audit.verify``), prints a table of findings by request id and exits 1 when there is any.
``purge`` applies ``audit.retention`` from ``--config`` (its rules and the checkpoint signing key; ``--db``
overrides the database URL) once, now: each batch purged under a signed tombstone checkpoint
(``clearance.audit.purge``); ``--dry-run`` only counts what is due.
``keygen`` prints a new signer key (secret: put it in a file or a secret manager) and its verifier key (public).
``erase ID`` deletes a record's sealed originals (their envelope, and so the only copy of its data key) in the
database directly: the content is gone for good, the record and its leaf stay, and ``verify`` still passes.
``reveal ID --reason ...`` asks a running gateway's admin API (``POST /admin/v1/records/{id}/reveal``: the auditor
role) for a record's originals and prints them; the gateway records the reveal and its reason. The gateway and the
credential are found as ``clearance approvals`` finds them (``--gateway``, ``$CLEARANCE_API_KEY`` or the login).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from clearance.audit.note import generate_key, load_verifiers
from clearance.audit.purge import Purger, PurgeResult
from clearance.audit.reveals import erase_originals
from clearance.audit.verify import VerifyReport, load_checkpoints, read_trail, verify
from clearance.cli import audit_records
from clearance.cli.approvals import GATEWAY_OPTION, PROFILE_OPTION, AdminApiError, call
from clearance.cli.keys import CONFIG_OPTION
from clearance.config import load_config
from clearance.db.engine import make_engine
from clearance.exceptions import ClearanceError, ConfigError, IntegrityError

audit_app = typer.Typer(
    help="Verify the audit trail offline; apply retention; make a checkpoint signing key; search, show, export and "
    "replay records; reveal or erase a record's originals.",
    no_args_is_help=True,
)


def _verifier_keys(key: str) -> list[str]:
    path = Path(key)
    if "+" not in key and path.is_file():
        return path.read_text().splitlines()
    return [key]


def _mark(value: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[value]


def print_report(report: VerifyReport, console: Console) -> None:
    console.print(
        f"{report.records} records after record id {report.base_record_id}, {report.leaves} leaves, "
        f"{len(report.checkpoints)} signed checkpoints"
    )
    if report.checkpoints:
        checkpoints = Table(title="Checkpoints")
        for column in ("checkpoint", "size", "root matches", "extends previous"):
            checkpoints.add_column(column)
        for status in report.checkpoints:
            checkpoints.add_row(
                status.source, str(status.size), _mark(status.root_matches), _mark(status.extends_previous)
            )
        console.print(checkpoints)
    if report.purged:
        text_purged = sum(1 for p in report.purged if p.kind == "text_purged")
        console.print(
            f"{len(report.purged)} records purged under signed tombstone checkpoints "
            f"({len(report.purged) - text_purged} deleted, {text_purged} kept without their text)"
        )
    if report.ok:
        console.print("[green]No finding: every record matches the tree and the tree every checkpoint.[/green]")
        return
    findings = Table(title="Findings")
    for column in ("finding", "request id", "leaf", "record id", "detail"):
        findings.add_column(column)
    for finding in report.findings:
        leaves = "" if finding.leaf_index is None else str(finding.leaf_index)
        if finding.last_leaf_index is not None and finding.last_leaf_index != finding.leaf_index:
            leaves += f"..{finding.last_leaf_index}"
        record = "" if finding.record_id is None else str(finding.record_id)
        findings.add_row(finding.kind, finding.request_id or "", leaves, record, finding.detail)
    console.print(findings)


def _from_config(config: Path) -> tuple[str, Path | None, str | None]:
    """The database URL, the export directory and the origin that the gateway's configuration names."""
    try:
        gateway = load_config(config)
    except ConfigError as exc:
        typer.echo(f"clearance audit verify: {exc.message} (or pass --db URL)", err=True)
        raise typer.Exit(2) from None
    integrity = gateway.audit.integrity
    return gateway.database.url, integrity.export.directory, integrity.origin


@audit_app.command("verify")
def verify_command(
    key: str = typer.Option(..., "--key", help="The verifier key, or a file of verifier keys (one a line)."),
    checkpoints: Path | None = typer.Option(
        None, "--checkpoints", help="Directory of saved checkpoints (default: the configured export directory)."
    ),
    db: str | None = typer.Option(None, "--db", help="A SQLAlchemy URL (instead of reading it from --config)."),
    config: Path = CONFIG_OPTION,
    origin: str | None = typer.Option(None, "--origin", help="Accept only checkpoints of this log."),
) -> None:
    """Check every record against the tree and the tree against every saved checkpoint; exit 1 on a finding."""
    console = Console(width=160)
    if db is None:
        db, configured_directory, configured_origin = _from_config(config)
        checkpoints = checkpoints or configured_directory
        origin = origin or configured_origin
    try:
        verifiers = load_verifiers(_verifier_keys(key))
        engine = make_engine(db)
        try:
            trail = read_trail(engine)
        finally:
            engine.dispose()
        saved, bad = load_checkpoints(checkpoints, trail.notes, verifiers, origin=origin)
    except IntegrityError as exc:
        console.print(f"[red]{exc.message}[/red] ({exc.code})")
        raise typer.Exit(2) from None
    report = verify(trail, saved)
    report = VerifyReport(
        report.records,
        report.leaves,
        report.base_record_id,
        report.checkpoints,
        (*bad, *report.findings),
        report.purged,
    )
    print_report(report, console)
    if not report.ok:
        raise typer.Exit(1)


def print_purge(result: PurgeResult, console: Console) -> None:
    if result.busy:
        console.print("[yellow]Another instance is purging now; try again later.[/yellow]")
    verb = "would purge" if result.dry_run else "purged"
    console.print(
        f"{verb} {result.purged} records: {result.deleted} deleted, {result.text_purged} kept without their text"
        + (f" ({result.untracked} written before the audit tree)" if result.untracked else "")
    )
    for rule, count in sorted(result.by_rule.items()):
        console.print(f"  {rule}: {count}")
    if result.purges:
        console.print(f"{len(result.purges)} signed tombstone checkpoints")
    if result.refused:
        console.print(
            f"[red]{len(result.refused)} records due were left: they no longer match the audit tree "
            "(run clearance audit verify)[/red]"
        )


@audit_app.command("purge")
def purge_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the records due; change nothing."),
    db: str | None = typer.Option(None, "--db", help="A SQLAlchemy URL (instead of database.url from --config)."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Apply audit.retention now: purge every record past its level's retention, under signed tombstones."""
    console = Console(width=160)
    try:
        gateway = load_config(config)
    except ConfigError as exc:
        typer.echo(f"clearance audit purge: {exc.message}", err=True)
        raise typer.Exit(2) from None
    engine = make_engine(db or gateway.database.url)
    try:
        purger = Purger.from_config(engine, gateway.audit.retention, gateway.audit.integrity)
        if purger is None:
            typer.echo("clearance audit purge: no audit.retention rule in the configuration: nothing to do", err=True)
            raise typer.Exit(2)
        result = purger.purge(dry_run=dry_run)
    except ClearanceError as exc:
        typer.echo(f"clearance audit purge: {exc.message} ({exc.code})", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    print_purge(result, console)
    if result.refused or result.busy:
        raise typer.Exit(1)


@audit_app.command("keygen")
def keygen(
    name: str = typer.Argument(..., help="The key name: the log's origin, e.g. audit.example.com/clearance"),
) -> None:
    """Print a new signer key (secret) and, on the next line, its verifier key (public)."""
    try:
        signer, verifier = generate_key(name)
    except IntegrityError as exc:
        typer.echo(f"{exc.message} ({exc.code})", err=True)
        raise typer.Exit(2) from None
    typer.echo(signer)
    typer.echo(verifier)


@audit_app.command("erase")
def erase(
    record_id: int = typer.Argument(..., help="The record's number (audit_records.id).", min=1),
    db: str | None = typer.Option(None, "--db", help="A SQLAlchemy URL (instead of reading it from --config)."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Erase a record's sealed originals for good (retention, a GDPR request): the record and its proofs stay."""
    if db is None:
        db = _from_config(config)[0]
    engine = make_engine(db)
    try:
        erased = erase_originals(engine, record_id)
    finally:
        engine.dispose()
    if not erased:
        typer.echo(f"clearance audit erase: record {record_id} has no originals to erase", err=True)
        raise typer.Exit(1)
    typer.echo(f"erased the originals of record {record_id}; the record and its leaf stay, and verify")


@audit_app.command("reveal")
def reveal(
    record_id: int = typer.Argument(..., help="The record's number (audit_records.id).", min=1),
    reason: str = typer.Option(..., "--reason", "-r", help="Why you reveal it (recorded with the reveal)."),
    gateway: str = GATEWAY_OPTION,
    profile: str = PROFILE_OPTION,
) -> None:
    """Print a record's original request and answer, decrypted by the gateway (the auditor role only)."""
    if not reason.strip():
        typer.echo("clearance audit reveal: say why with --reason (it is recorded with the reveal)", err=True)
        raise typer.Exit(1)
    try:
        body = asyncio.run(
            call(gateway, profile, "POST", f"/admin/v1/records/{record_id}/reveal", json={"reason": reason})
        )
    except AdminApiError as exc:
        typer.echo(f"clearance audit reveal: {exc}", err=True)
        raise typer.Exit(1) from None
    console = Console(width=160)
    console.print(f"record {body.get('record_id')} (request {body.get('request_id')}), sealed by {body.get('kek_id')}")
    if body.get("truncated"):
        console.print("[yellow]cut at audit.max_text_bytes[/yellow]")
    for side in ("request", "answer"):
        console.rule(side)
        console.print(body.get(side) or "(none)", markup=False, highlight=False)


audit_records.register(audit_app)


def register(app: typer.Typer) -> None:
    app.add_typer(audit_app, name="audit")
