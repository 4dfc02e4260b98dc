"""No test reads the test half's texts. In ``tests/``, every ``generate`` call asks for ``"dev"``; the one
exception is ``test_init.py``, which may generate a half only straight into ``census(...)`` (counts, no texts)."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[2]
CENSUS_ONLY = Path(__file__).with_name("test_init.py")


def offending_calls(path: Path) -> list[int]:
    """Lines of ``generate(...)`` calls in ``path`` that may reach the test half's texts."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside_census = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "census"
        for arg in node.args
    }
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name != "generate" or not node.args:
            continue
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and arg.value == "dev":
            continue
        if isinstance(arg, ast.Constant) and isinstance(arg.value, int):
            continue  # bench.corpus.generate(n): the own corpus, not a half of this one
        refused_on_purpose = isinstance(arg, ast.Constant) and arg.value == "train"
        if path == CENSUS_ONLY and (id(node) in inside_census or refused_on_purpose):
            continue
        bad.append(node.lineno)
    return sorted(bad)


def test_no_test_reads_the_test_half() -> None:
    sources = [p for p in TESTS.rglob("*.py") if "heldout" in p.read_text(encoding="utf-8")]
    assert CENSUS_ONLY in sources
    offenders = {str(p.relative_to(TESTS)): offending_calls(p) for p in sources}
    assert {p: lines for p, lines in offenders.items() if lines} == {}


def test_the_rule_catches_reads_of_the_test_half(tmp_path: Path) -> None:
    sneaky = tmp_path / "test_sneaky.py"
    sneaky.write_text(
        "from bench.heldout import SPLITS, generate\n"
        'direct = generate("test")\n'
        "looped = [generate(s) for s in SPLITS]\n"
        'counted = census(generate("test"))\n'
        'fine = generate("dev")\n',
        encoding="utf-8",
    )
    assert offending_calls(sneaky) == [2, 3, 4]
