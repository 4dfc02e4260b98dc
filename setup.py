"""Build hook: compiles the detection engine with mypyc (the rest of the project is in pyproject.toml).

The detection modules run on every text of every request; compiled to C extensions they run about 1.5x faster
with the same results. ``CLEARANCE_PURE_PYTHON=1`` skips compilation: a pure-Python install, for debugging and
for measuring test coverage of these modules (coverage cannot trace compiled code).
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
DETECT = Path("clearance", "detect")
# The hot path: the scanner and what it calls for every text. Configuration, plug-in loading and the registry
# run once per scanner and stay interpreted.
COMPILED = [
    *(
        DETECT / f"{name}.py"
        for name in (
            "base",
            "numbers",
            "skeleton",
            "scanner",
            "context",
            "overlap",
            "normalize",
            "prefilter",
            "exclusions",
            "checksums",
            "levels",
            "phone_metadata",
        )
    ),
    *sorted(p.relative_to(HERE) for p in (HERE / DETECT / "builtin").glob("*.py") if p.name != "__init__.py"),
]


def ext_modules() -> list[object]:
    if os.environ.get("CLEARANCE_PURE_PYTHON", "") not in ("", "0"):
        return []
    from mypyc.build import mypycify

    # The compiled modules share one library, the top-level module ``clearance__mypyc`` (mypyc's layout: its
    # modules find their files relative to it); each module keeps a small extension of its own name.
    return list(mypycify([str(p) for p in COMPILED], opt_level="3", group_name="clearance"))


setup(ext_modules=ext_modules())
