"""``python -m clearance``: the entry point reaches the command line, with every command group registered."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import typer
from typer.core import TyperGroup

import clearance
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


def test_the_version_is_the_one_written_in_pyproject() -> None:
    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    version = pyproject["project"]["version"]
    assert clearance.__version__ == version
    done = subprocess.run(
        [sys.executable, "-m", "clearance", "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"clearance {version}\n"
