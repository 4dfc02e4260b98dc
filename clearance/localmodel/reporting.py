"""Progress and status messages for the person waiting on a build: they go to stderr, never
stdout."""

from __future__ import annotations

import sys
from collections.abc import Callable

Reporter = Callable[[str], None]
"""Receives one human-readable status line at a time."""


def report_to_stderr(message: str) -> None:
    print(f"clearance local-model: {message}", file=sys.stderr, flush=True)


def report_nothing(message: str) -> None:
    """A reporter that drops every message (for callers with their own progress display)."""
