"""``python -m clearance``: the entry point reaches the command line, with every command group registered."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.core import TyperGroup

from clearance.cli import app

COMMANDS = {
    "serve",
    "config",
    "keys",
    "login",
    "token",
    "logout",
    "local-model",
    "scan",
    "classify",
    "policy",
    "approvals",
    "audit",
}


def test_the_command_line_registers_every_command_the_docs_name() -> None:
    group = typer.main.get_command(app)
    assert isinstance(group, TyperGroup)
    assert set(group.commands) == COMMANDS


def test_when_run_as_a_module_then_the_command_line_answers() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "clearance", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "Usage:" in done.stdout
    assert all(command in done.stdout for command in COMMANDS), done.stdout
