"""Logs: addresses, e-mails and tokens among timestamps and request ids."""

from __future__ import annotations

import json
from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import logs
from tests.bench.heldout.shapes.conftest import Writer


def test_every_log_template_mixes_values_and_negatives(counts: Callable[..., list[Census]]) -> None:
    for c in counts(logs.TEMPLATES):
        assert sum(c.entities.values()) >= 15
        assert sum(c.negatives.values()) >= 15
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_json_lines_parse(dev_records: Writer) -> None:
    parsed = 0
    for record in dev_records(logs.TEMPLATES):
        for line in record["text"].splitlines():
            if line.startswith("{"):
                json.loads(line)
                parsed += 1
    assert parsed > 20
