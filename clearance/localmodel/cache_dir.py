"""Where the local model's build and files are cached, and how that folder is laid out.

The cache is per machine and per user: ``$CLEARANCE_CACHE_DIR`` if set, else
``$XDG_CACHE_HOME/clearance``, else ``~/.cache/clearance``. Deleting the folder is always safe: the
next start provisions again.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR_ENV = "CLEARANCE_CACHE_DIR"


def resolve_cache_root(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Path:
    """The cache folder for this user, from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    explicit = env.get(CACHE_DIR_ENV, "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = env.get("XDG_CACHE_HOME", "").strip()
    # The XDG spec says a relative value is invalid and must be ignored.
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "clearance"
    return (home if home is not None else Path.home()) / ".cache" / "clearance"


@dataclass(frozen=True)
class CacheLayout:
    """The folders and files under one cache root."""

    root: Path

    @property
    def lock_file(self) -> Path:
        return self.root / ".lock"

    @property
    def work_root(self) -> Path:
        """Builds happen in folders under here and are renamed into place when complete."""
        return self.root / ".work"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def component_dir(self, name: str) -> Path:
        return self.root / name

    def create(self) -> None:
        for folder in (self.root, self.work_root, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
