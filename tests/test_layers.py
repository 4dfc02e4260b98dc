"""Arrows point down: a package imports only packages below it (STYLE.md, "one catalogue per concept, at the
bottom layer"). The layers, lowest first; a new package must be placed here before it can import anything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import clearance

PACKAGE = Path(clearance.__file__).parent

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"models", "exceptions", "tasks", "endpoints"}),
    frozenset({"entities", "secretref"}),
    frozenset({"levels"}),
    frozenset({"detect", "payload", "db", "localmodel", "testing"}),
    frozenset({"audit", "auth", "approvals", "limits"}),
    frozenset({"config"}),
    frozenset({"policy", "mask", "observability", "drain"}),
    frozenset({"enforce"}),
    frozenset({"proxy"}),
    frozenset({"admin"}),
    frozenset({"console"}),
    frozenset({"app"}),
    frozenset({"server"}),
    frozenset({"workers"}),
    frozenset({"cli"}),
    frozenset({"__main__"}),
)
"""``audit`` and ``auth`` share a layer but not each other: both reach the database through ``db``. ``admin`` sits
above ``proxy``: it answers errors in the data path's shape (``proxy.errors``) and reads the policy and approvals
below; only the app (and the CLI, through HTTP, not imports) reaches it. ``workers`` (the supervisor of
``serve --workers``) runs ``server``'s gateway in each worker process."""
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """``clearance.proxy.pipeline`` -> ``proxy``; a top-level module is its own unit."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports(path: Path) -> set[str]:
    """Every ``clearance`` module ``path`` imports, at any depth of the file (functions included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name == "clearance" or name.startswith("clearance."))
    return found


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_every_unit_of_the_package_has_a_layer() -> None:
    units = {unit_of(module_name(p)) for p in modules()}
    assert units - RANK.keys() == set()


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    source = unit_of(module_name(path))
    upward = sorted(
        target
        for target in imports(path)
        if unit_of(target) != source and RANK.get(unit_of(target), len(LAYERS)) >= RANK[source]
    )
    assert upward == [], f"{source} (layer {RANK[source]}) must not import {upward}"


def test_the_layer_check_catches_an_upward_import(tmp_path: Path) -> None:
    module = tmp_path / "stray.py"
    module.write_text("def f() -> None:\n    from clearance.proxy.pipeline import ModelPipeline\n")
    assert imports(module) == {"clearance.proxy.pipeline"}
    assert RANK[unit_of("clearance.proxy.pipeline")] > RANK["mask"]
