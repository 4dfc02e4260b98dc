"""API payloads: nested JSON whose bodies parse."""

from __future__ import annotations

import json
from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import payloads
from tests.bench.heldout.shapes.conftest import Writer


def test_every_payload_template_is_well_formed(counts: Callable[..., list[Census]]) -> None:
    for c in counts(payloads.TEMPLATES):
        assert sum(c.entities.values()) >= 15
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_bodies_parse_as_json(dev_records: Writer) -> None:
    for record in dev_records(payloads.TEMPLATES):
        body = record["text"][record["text"].index("{") :]
        json.loads(body)
