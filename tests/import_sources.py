"""A pytest plugin that makes Python import Clearance's ``.py`` sources where a compiled extension sits beside them.

    .venv/bin/python -m pytest -p tests.import_sources tests/detect

The shipped build compiles the detection engine with mypyc, and Python prefers an extension to the source of the
same name; coverage cannot trace compiled code. ``scripts/test`` runs the tests that exercise those modules a second
time with this plugin, so their coverage is measured on the sources they were compiled from. Loaded with ``-p``,
it is imported before any test module or conftest imports ``clearance``.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
import sysconfig
from collections.abc import Sequence
from types import ModuleType

_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")


class SourcesFirst(importlib.abc.MetaPathFinder):
    """Finds ``clearance`` modules as the path finder does, but a compiled extension's source in its place."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname.partition(".")[0] != "clearance":
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.origin is None or not spec.origin.endswith(_SUFFIX):
            return spec
        return importlib.util.spec_from_file_location(fullname, spec.origin.removesuffix(_SUFFIX) + ".py")


if any(name.partition(".")[0] == "clearance" for name in sys.modules):
    raise RuntimeError("tests.import_sources must be loaded before clearance is imported (pytest -p)")
sys.meta_path.insert(0, SourcesFirst())
