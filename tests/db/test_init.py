"""``clearance.db`` is at the bottom of the house: it imports nothing else from ``clearance``.

``tests/test_layers.py`` keeps every arrow pointing down; this is stricter for the database, which the packages of
its own layer and of the bottom one (models, exceptions) do not need either.
"""

from __future__ import annotations

from tests.test_layers import PACKAGE, imports, module_name, modules, unit_of


def test_when_the_package_is_read_then_it_imports_only_itself_from_clearance() -> None:
    ours = [path for path in modules() if unit_of(module_name(path)) == "db"]
    assert PACKAGE / "db" / "migrations" / "env.py" in ours  # the migrations are read too

    outside = {module_name(path): sorted(i for i in imports(path) if unit_of(i) != "db") for path in ours}

    assert {module: names for module, names in outside.items() if names} == {}
