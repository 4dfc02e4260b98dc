"""Build hook: compiles the detection engine with mypyc (the rest of the project is in pyproject.toml).

The detection modules run on every text of every request; compiled to C extensions they run 1.5-2x faster with
the same results (docs/detection.md). ``CLEARANCE_PURE_PYTHON=1`` skips compilation: a pure-Python install, for
debugging and for measuring test coverage of these modules (coverage cannot trace compiled code).
"""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
DETECT = Path("clearance", "detect")
# The hot path: the scanner and what it calls for every text. Configuration, plug-in loading, the registry, levels
# and exclusions run once per scanner or per request and stay interpreted; so do the modules whose classes are
# public values or extension points, which compiled classes would change: base.py (Detector, subclassed by
# plug-ins), context_rule.py, levels.py, exclusions.py and builtin/tokens.py (frozen dataclasses, which mypyc
# compiles into classes that cannot be copied, pickled or subclassed).
COMPILED = [
    *(
        DETECT / f"{name}.py"
        for name in (
            "document",
            "decoded",
            "numbers",
            "skeleton",
            "scanner",
            "context",
            "overlap",
            "normalize",
            "prefilter",
            "checksums",
            "phone_metadata",
            "placeholders",
            "names",
            "credential_values",
            "labels",
            "tables",
            "sql_labels",
        )
    ),
    *sorted(
        p.relative_to(HERE)
        for p in (HERE / DETECT / "builtin").glob("*.py")
        if p.name not in ("__init__.py", "tokens.py")
    ),
]
# The compiled modules share one library, which mypyc names after their group: the top-level module
# ``clearance__mypyc`` (mypyc's layout: the modules find their files relative to it, above the package). Each
# module keeps a small extension of its own name.
GROUP = "clearance"
SHARED_LIB = f"{GROUP}__mypyc"


def pure_python() -> bool:
    return os.environ.get("CLEARANCE_PURE_PYTHON", "") not in ("", "0")


def remove_stale_extensions(keep: list[Path]) -> None:
    """Delete extensions that an earlier build left and that this build will not replace (all of them for a
    pure-Python build; those of modules no longer compiled otherwise), beside the sources (an editable build) and
    in ``build/`` (which setuptools packs into wheels). Python imports an extension before a module's ``.py``, so
    they would still run, or fail against the new shared library."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    wanted = {p.with_suffix(suffix) for p in keep} | ({Path(f"{SHARED_LIB}{suffix}")} if keep else set())
    for root in [HERE, *HERE.glob("build/lib*")]:
        for path in sorted([*(root / "clearance").rglob(f"*{suffix}"), *root.glob(f"{SHARED_LIB}{suffix}")]):
            if path.relative_to(root) not in wanted:
                print(f"removing {path.relative_to(HERE)}, left by an earlier build")
                path.unlink()


def ext_modules() -> list[object]:
    if pure_python():
        remove_stale_extensions(keep=[])
        return []
    remove_stale_extensions(keep=COMPILED)
    from mypyc.build import mypycify

    # mypyc type-checks what it compiles with the project's mypy settings. The build environment holds only the
    # build requirements, so modules that are imported but not compiled (configuration needs pydantic) are read
    # for their types without reporting their errors: the project's own strict mypy run checks them.
    options = ["--follow-imports=silent"]
    return list(mypycify([*options, *map(str, COMPILED)], opt_level="3", group_name=GROUP))


setup(ext_modules=ext_modules())
