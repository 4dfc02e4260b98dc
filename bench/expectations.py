"""What one side of a proxied exchange must see (``required``) and must never see (``forbidden``), and the check.

Used on both sides of the masking benchmark: the load generator judges each answer's text, the upstream double
each request's body. A failure names a forbidden value only by its index, never by its text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Expectations:
    required: tuple[str, ...]
    forbidden: tuple[str, ...]


def problem(text: str, required: Sequence[str], forbidden: Sequence[str], side: str) -> str | None:
    """Why ``text`` breaks the expectations, or None. ``side`` says where it was seen (for the message)."""
    for i, value in enumerate(forbidden):
        if value in text:
            return f"forbidden value #{i} reached the {side}"
    missing = [value for value in required if value not in text]
    return f"the {side} did not get {missing[0]!r}" if missing else None
