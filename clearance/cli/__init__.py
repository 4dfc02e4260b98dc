"""The ``clearance`` command line. Each command group lives in a module of its own and registers itself here."""

from __future__ import annotations

import typer

from clearance.cli import approvals, audit, config_cmd, keys, local_model, login, policy, scan, serve

app = typer.Typer(
    name="clearance",
    help="Clearance: data-classification enforcement in front of self-hosted LLMs.",
    no_args_is_help=True,
    add_completion=False,
)
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
