"""``ALL`` holds every module's templates once."""

from __future__ import annotations

from bench.heldout.shapes import ALL, code, configs, logs, messages, payloads, prose, tables


def test_all_is_every_module_in_order() -> None:
    modules = (tables, configs, messages, logs, payloads, code, prose)
    assert tuple(t for m in modules for t in m.TEMPLATES) == ALL
    assert len(ALL) >= 90
