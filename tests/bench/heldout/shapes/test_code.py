"""Code with hard-coded credentials in several languages."""

from __future__ import annotations

import ast
from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import code
from tests.bench.heldout.shapes.conftest import Writer


def test_every_code_template_holds_a_credential(counts: Callable[..., list[Census]]) -> None:
    for c in counts(code.TEMPLATES):
        assert set(c.entities) - {"PERSON", "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER"}
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_python_sources_parse(dev_records: Writer) -> None:
    parsed = 0
    for record in dev_records(code.TEMPLATES):
        if record["text"].startswith(("import ", "# settings")):
            ast.parse(record["text"])
            parsed += 1
    assert parsed > 0
