"""``clearance keys create|list|revoke``: the gateway's API keys for scripts and agents.

The database is the one the gateway uses: ``auth.api_keys.url``, else ``database.url``, from ``--config``; or
``--db URL`` directly. A new key is printed once, on stdout; only its hash is stored.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from clearance.auth import keys
from clearance.auth.keys import ApiKeyStore
from clearance.config import load_config
from clearance.exceptions import ConfigError

keys_app = typer.Typer(help="Create, list and revoke API keys (clr_…).", no_args_is_help=True)

CONFIG_OPTION = typer.Option(
    Path("clearance.yaml"), "--config", "-c", envvar="CLEARANCE_CONFIG", help="The gateway's configuration file."
)
DB_OPTION = typer.Option(None, "--db", help="A SQLAlchemy URL (instead of reading it from --config).")


def parse_expiry(value: str, *, now: float) -> float | None:
    """``clearance.auth.keys.parse_expiry``, its error as the CLI reports a bad option."""
    try:
        return keys.parse_expiry(value, now=now)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _store(config: Path, db: str | None) -> ApiKeyStore:
    if db is None:
        try:
            gateway = load_config(config)
        except ConfigError as exc:
            typer.echo(f"clearance keys: {exc.message} (or pass --db URL)", err=True)
            raise typer.Exit(1) from None
        db = gateway.auth.api_keys.url or gateway.database.url
    store = ApiKeyStore(db)
    store.create_tables()
    return store


def _when(ts: float | None) -> str:
    return "-" if ts is None else datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


@keys_app.command("create")
def create(
    owner: str = typer.Option(..., help="Who answers for the key (a person or a service)."),
    group: list[str] = typer.Option([], "--group", "-g", help="A group the key's caller belongs to (repeat)."),
    label: str = typer.Option("", help="What the key is for."),
    expires: str = typer.Option(keys.DEFAULT_EXPIRY, help="90d, 12h, 2w, a date (2026-12-31) or never."),
    config: Path = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Create a key and print it once: store it in your secret manager now."""
    expires_at = parse_expiry(expires, now=time.time())
    store = _store(config, db)
    try:
        record, raw = store.create(owner=owner, groups=group, expires_at=expires_at, label=label)
    finally:
        store.close()
    typer.echo(raw)
    typer.echo(
        f"Created API key {record.key_id} for {owner} (expires {_when(expires_at)}). "
        "It is shown only now; only its hash is stored.",
        err=True,
    )


@keys_app.command("list")
def list_keys(config: Path = CONFIG_OPTION, db: str | None = DB_OPTION) -> None:
    """List every key: id, owner, groups, status, expiry and last use (never the key)."""
    store = _store(config, db)
    try:
        records = store.list()
    finally:
        store.close()
    now = time.time()
    table = Table(title=f"{len(records)} API key(s)")
    for column in ("id", "owner", "label", "groups", "status", "created", "expires", "last used"):
        table.add_column(column)
    for r in records:
        table.add_row(
            r.key_id,
            r.owner,
            r.label,
            ", ".join(r.groups),
            r.status(now),
            _when(r.created_at),
            _when(r.expires_at),
            _when(r.last_used_at),
        )
    Console(width=160).print(table)


@keys_app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The key's id (the 12 hex digits after clr_)."),
    config: Path = CONFIG_OPTION,
    db: str | None = DB_OPTION,
) -> None:
    """Revoke a key: it stops working at once, on every gateway sharing the database."""
    store = _store(config, db)
    try:
        revoked = store.revoke(key_id)
    finally:
        store.close()
    if not revoked:
        typer.echo(f"clearance keys: no active key {key_id} (see `clearance keys list`)", err=True)
        raise typer.Exit(1)
    typer.echo(f"Revoked API key {key_id}.", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
