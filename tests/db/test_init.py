"""``clearance.db`` is at the bottom of the house: it imports nothing else from ``clearance``."""

from __future__ import annotations

import ast
from pathlib import Path

import clearance.db

PACKAGE = Path(clearance.db.__file__).parent


def _clearance_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return {name for name in names if name == "clearance" or name.startswith("clearance.")}


def test_when_the_package_is_read_then_it_imports_only_itself_from_clearance() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert PACKAGE / "migrations" / "env.py" in modules  # the walk reaches the migrations too

    outside = {
        str(path.relative_to(PACKAGE)): sorted(
            name for name in _clearance_imports(path) if not name.startswith("clearance.db")
        )
        for path in modules
    }

    assert {module: names for module, names in outside.items() if names} == {}
