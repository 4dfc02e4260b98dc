"""Groups from a file, for providers that put none in tokens (Google) or too many (Entra overage).

The file is YAML, a mapping from a user's email (matched case-insensitively) or subject to a list of
group names::

    alice@example.com: [engineering, finance]
    bob@example.com: [engineering]
    "00000000-0000-0000-0000-000000000000": [ops]   # a subject

It is re-read when it changes (checked at most every ``check_interval`` seconds, on use). A change
that does not parse is logged and ignored: the last good mapping stays in force, so a typo cannot
strip everyone's groups.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from clearance.exceptions import ConfigError

log = logging.getLogger("clearance.auth.group_source")


class GroupSourceFile:
    """Email/subject -> groups, from a YAML file kept current. Load with ``load()`` before use."""

    def __init__(
        self,
        path: Path,
        *,
        check_interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self._check_interval = check_interval
        self._clock = clock
        self._mapping: Mapping[str, tuple[str, ...]] = {}
        self._signature: tuple[int, int, int] | None = None
        self._checked_at = 0.0

    def load(self) -> None:
        """Read the file now. Raises ``ConfigError`` (naming the file, never its content) if it is
        unusable."""
        signature = self._stat()
        if signature is None:
            raise ConfigError(f"cannot read group source {self.path}: check the path and its permissions")
        self._mapping = self._read()
        self._signature = signature
        self._checked_at = self._clock()

    def groups_for(self, *, email: str | None, subject: str) -> tuple[str, ...] | None:
        """The user's groups, or None when the file does not list the user."""
        self._reload_if_changed()
        if email is not None and email.lower() in self._mapping:
            return self._mapping[email.lower()]
        return self._mapping.get(subject)

    def _reload_if_changed(self) -> None:
        now = self._clock()
        if now - self._checked_at < self._check_interval:
            return
        self._checked_at = now
        signature = self._stat()
        if signature is None or signature == self._signature:
            if signature is None:
                log.warning(
                    "group source unreadable; keeping the last good one",
                    extra={"path": str(self.path)},
                )
            return
        try:
            mapping = self._read()
        except ConfigError as exc:
            log.warning(
                "group source changed but is invalid; keeping the last good one",
                extra={"path": str(self.path), "error": exc.message},
            )
            self._signature = signature  # do not re-parse the same bad content on every check
            return
        self._mapping = mapping
        self._signature = signature
        log.info("group source reloaded", extra={"path": str(self.path), "users": len(mapping)})

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _read(self) -> dict[str, tuple[str, ...]]:
        try:
            data: Any = yaml.safe_load(self.path.read_text())
        except (OSError, yaml.YAMLError):
            raise ConfigError(f"group source {self.path} cannot be read as YAML") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"group source {self.path}: expected a mapping of user -> list of groups")
        out: dict[str, tuple[str, ...]] = {}
        for user, groups in data.items():
            if not isinstance(user, str) or not isinstance(groups, list):
                raise ConfigError(f"group source {self.path}: each entry must be 'user: [group, …]'")
            if not all(isinstance(g, str) and g for g in groups):
                raise ConfigError(f"group source {self.path}: group names must be non-empty strings")
            key = user.lower() if "@" in user else user
            out[key] = tuple(groups)
        return out
