"""``clearance config check FILE``: validate a configuration file and print every error at once.

The policy file it names (or the default policy) is loaded too, with the levels its ``detection:`` section
declares, as the gateway loads them: a declared level that is not on the policy's scale is reported here. A
``telemetry:`` section without the ``otel`` extra installed is reported too, as start-up would.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from clearance.config import load_config
from clearance.exceptions import ConfigError
from clearance.observability.tracing import tracer_module
from clearance.policy import load_policy

config_app = typer.Typer(help="Work with configuration files.", no_args_is_help=True)


@config_app.command("check")
def check(file: Path = typer.Argument(..., help="The YAML configuration file.")) -> None:
    """Validate FILE; exit 1 and list every error (key path and hint) if it is invalid."""
    console = Console()
    try:
        config = load_config(file)
        load_policy(config.policy.file, config.detection.declared_levels())
        if config.telemetry is not None:
            tracer_module(config.telemetry)
    except ConfigError as exc:
        table = Table(title=exc.message, show_lines=False)
        table.add_column("key")
        table.add_column("problem")
        for path, message in exc.errors:
            table.add_row(path, message)
        Console(stderr=True).print(table)
        raise typer.Exit(1) from None
    console.print(f"[green]{file}: valid[/green]")
    for up in config.upstreams:
        models = ", ".join(m.name for m in up.models) or "(discovered at start)"
        console.print(f"  upstream {up.name} ({up.kind}) {up.root}: {models}")


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
