"""``clearance policy replay NEW_POLICY --since 7d``: how NEW_POLICY would have decided the recorded traffic.

Reads the records from the database (``--db URL``, else ``database.url`` from ``--config``), streamed a page at a
time (``clearance.audit.query.iter_records``), evaluates each recorded decision's inputs again under NEW_POLICY
(``clearance.policy.replay``, the gateway's own pure ``evaluate``) and prints how many decisions would change, from
which action and rule to which, with example record ids (``clearance audit show ID``). The policy is compiled with
the levels the configuration's detection declares, as the gateway compiles it. Exits 0 when nothing changes, 3
when something would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from clearance.audit.query import RecordFilter, iter_records
from clearance.cli.audit_records import database_url, time_bound
from clearance.cli.keys import CONFIG_OPTION, DB_OPTION
from clearance.cli.scan import gateway_config, gateway_policy
from clearance.db.engine import make_engine
from clearance.policy.replay import ReplayReport, replay


def print_report(report: ReplayReport, console: Console) -> None:
    console.print(
        f"{report.decided} recorded decisions evaluated again: {report.changed} would change, "
        f"{report.unchanged} would not; {report.undecided} records without a decision skipped",
        markup=False,
    )
    if report.inferred_kind:
        console.print(
            f"{report.inferred_kind} records predate the recorded caller kind: it was inferred from how they "
            "authenticated (an OIDC service account counts as a user)",
            markup=False,
        )
    if not report.changes:
        return
    table = Table(title="Decisions that would change", title_justify="left")
    for column in ("records", "from (action, rule)", "to (action, rule)", "examples"):
        table.add_column(column, overflow="fold")
    for change in report.changes:
        table.add_row(
            str(change.count),
            f"{change.before[0]} ({change.before[1]})",
            f"{change.after[0]} ({change.after[1]})",
            ", ".join(map(str, change.examples)),
        )
    console.print(table)


def register(policy_app: typer.Typer) -> None:
    @policy_app.command("replay")
    def replay_command(
        file: Path = typer.Argument(..., help="The new YAML policy file."),
        since: str = typer.Option("7d", "--since", help="Records made at or after: 7d, 12h, or an ISO 8601 time."),
        db: str | None = DB_OPTION,
        config: Path = CONFIG_OPTION,
    ) -> None:
        """Evaluate the recorded decisions since --since again under FILE; print what would change."""
        settings = gateway_config(config if db is None or config.exists() else None)
        policy = gateway_policy(settings, file)
        start = time_bound(since, "since", now=time.time())
        wanted = RecordFilter(since=datetime.fromisoformat(start).astimezone(UTC) if start else None)
        engine = make_engine(database_url(db, config))
        try:
            report = replay(policy, iter_records(engine, wanted))
        finally:
            engine.dispose()
        print_report(report, Console(width=160))
        if report.changes:
            raise typer.Exit(3)
