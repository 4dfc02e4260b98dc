"""``audit.retention``: how long records are kept, per classification level, and whether their text alone goes.

Each rule names a level of the policy (the level a record was detected at), or ``default`` for every other record
(a level no rule names, or none); its value is a duration (``30d``, ``12h``, ``90m``, ``45s``) or
``{after: 30d, keep_metadata: true}``. A record older than its rule's duration is purged
(``clearance.audit.purge``): deleted, or, with ``keep_metadata``, kept without its text (``request_text``,
``response_text``). No rule: records are kept forever, and no purge runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_RULE = "default"
"""The rule for records of a level no other rule names (or of no level)."""

TEXT_COLUMNS = ("request_text", "response_text")
"""What ``keep_metadata`` purges: the only columns of a record that hold payload text."""

_DURATION = re.compile(r"([1-9][0-9]{0,5})([smhd])")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: str) -> timedelta:
    """``30d`` (days), ``12h``, ``90m``, ``45s``; a ``ValueError`` saying the format otherwise."""
    match = _DURATION.fullmatch(value.strip())
    if match is None:
        raise ValueError(f"{value!r} is not a duration: write a whole number and a unit, s, m, h or d (e.g. 90d)")
    return timedelta(seconds=int(match[1]) * _UNIT[match[2]])


class RetentionRule(BaseModel):
    """Purge a record once it is older than ``after``; with ``keep_metadata``, only its text."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: timedelta
    keep_metadata: bool = False

    @field_validator("after", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        return parse_duration(value) if isinstance(value, str) else value


class RetentionConfig(BaseModel):
    """``audit.retention``: a rule per level (and ``default``), how often the gateway purges, and how many records
    one purge (one transaction, one signed checkpoint) takes at most."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: dict[str, RetentionRule] = {}
    interval: Annotated[float, Field(gt=0)] = 3600.0
    """Seconds between two purges by the gateway's background task."""
    batch: Annotated[int, Field(ge=1, le=100_000)] = 1000
    """The most records one purge transaction takes; a purge run goes on, batch after batch, until none is due."""

    @field_validator("levels", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"after": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @property
    def enabled(self) -> bool:
        return bool(self.levels)

    def unknown_levels(self, scale: Iterable[str]) -> list[str]:
        """The rules' level names that are not on ``scale`` (the policy's): such a rule never matches a record."""
        known = set(scale)
        return sorted(name for name in self.levels if name != DEFAULT_RULE and name not in known)

    def rule_for(self, level: str | None) -> tuple[str, RetentionRule] | None:
        """The rule a record of ``level`` falls under, with its name; ``None`` when it is kept forever."""
        if level is not None and level != DEFAULT_RULE and level in self.levels:
            return level, self.levels[level]
        if DEFAULT_RULE in self.levels:
            return DEFAULT_RULE, self.levels[DEFAULT_RULE]
        return None
