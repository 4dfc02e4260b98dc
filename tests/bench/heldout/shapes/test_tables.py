"""Tables: the header is the only thing that says what a column holds."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import tables
from tests.bench.heldout.shapes.conftest import Writer


def test_every_table_template_is_well_formed(counts: Callable[..., list[Census]]) -> None:
    for c in counts(tables.TEMPLATES):
        assert sum(c.entities.values()) >= 6
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0
        assert c.invalid == {}


def test_csv_exports_parse_and_labels_are_whole_cells(dev_records: Writer) -> None:
    for record in dev_records(tables.TEMPLATES):
        text = record["text"]
        if record["text"].startswith("["):
            rows = json.loads(text)
            cells = {v for row in rows for v in row.values()}
        elif "\t" in text.splitlines()[0] or "," in text.splitlines()[0] or ";" in text.splitlines()[0]:
            dialect = "excel-tab" if "\t" in text.splitlines()[0] else "excel"
            delimiter = ";" if ";" in text.splitlines()[0] else ("\t" if dialect == "excel-tab" else ",")
            cells = {c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row}
        else:
            continue
        for e in record["entities"]:
            assert text[e["start"] : e["end"]] in cells


def test_header_spellings_vary() -> None:
    assert {"acct_no", "AccountNumber", "Account #", "bank_account"} <= set(tables.ACCOUNT.headers)
    assert {"SSN", "social_security_number"} <= set(tables.SSN.headers)
    assert {"Customer Name", "full_name"} <= set(tables.NAME.headers)


def test_unformatted_ssns_appear_under_their_header(dev_records: Writer) -> None:
    bare = 0
    for record in dev_records(tables.TEMPLATES):
        for e in record["entities"]:
            bare += e["type"] == "US_SSN" and record["text"][e["start"] : e["end"]].isdigit()
    assert bare > 10
