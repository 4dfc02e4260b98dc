"""Version stamps: a small JSON file inside each cached component saying exactly what it was built
from.

A component is current only when its stamp equals the stamp we would write now, so bumping a pinned
version (or the build recipe) rebuilds it. The stamp is written last, so a folder without one was
never completed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

STAMP_FILE = "clearance-stamp.json"

Stamp = Mapping[str, str | int | list[str]]


def write_stamp(directory: Path, stamp: Stamp) -> None:
    """Write ``stamp`` into ``directory`` atomically (write aside, then rename)."""
    target = directory / STAMP_FILE
    partial = directory / f".{STAMP_FILE}.partial"
    partial.write_text(json.dumps(dict(stamp), sort_keys=True, indent=2) + "\n")
    os.replace(partial, target)


def read_stamp(directory: Path) -> dict[str, object] | None:
    """The stamp in ``directory``, or None when there is none or it is unreadable."""
    try:
        value = json.loads((directory / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def stamp_matches(directory: Path, expected: Stamp) -> bool:
    # Round-trip through JSON so tuples and lists compare equal.
    wanted: object = json.loads(json.dumps(dict(expected)))
    return read_stamp(directory) == wanted
