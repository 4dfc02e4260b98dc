"""The ``clearance`` command line. Each command group lives in a module of its own and registers itself here."""

from __future__ import annotations

from importlib.metadata import version

import typer

from clearance.cli import approvals, audit, config_cmd, keys, local_model, login, policy, scan, serve

app = typer.Typer(
    name="clearance",
    help="Clearance: data-classification enforcement in front of self-hosted LLMs.",
    no_args_is_help=True,
    add_completion=False,
)


def _print_version(asked: bool) -> None:
    if asked:
        typer.echo(f"clearance {version('clearance')}")  # the installed distribution's: pyproject.toml's
        raise typer.Exit()


@app.callback()
def _options(
    _version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Clearance: data-classification enforcement in front of self-hosted LLMs."""


serve.register(app)
config_cmd.register(app)
keys.register(app)
login.register(app)
local_model.register(app)
scan.register(app)
policy.register(app)
approvals.register(app)
audit.register(app)


def main() -> None:
    app()
