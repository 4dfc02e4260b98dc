from __future__ import annotations

import io

import pytest

from clearance.cli.records import Record, detect_format, read_records
from clearance.detect.scanner import Scanner


@pytest.mark.parametrize(("path", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv"),
                                           ("a.txt", "text"), ("-", "text")])  # fmt: skip
def test_when_a_path_is_given_then_its_format_follows_the_extension(path: str, fmt: str) -> None:
    assert detect_format(path) == fmt


def test_when_jsonl_is_read_then_strings_are_gathered_and_blank_lines_skipped() -> None:
    stream = io.StringIO('{"a": "x", "b": [1, "y", {"c": "z"}]}\n\n{"n": 5}\n')
    assert list(read_records(stream, "jsonl")) == [Record(1, "a: x\nb: y\nc: z"), Record(3, "")]


def test_when_a_field_holds_a_number_then_its_text_is_scanned() -> None:
    stream = io.StringIO('{"a": {"b": 4111111111111111}}\n')
    assert [r.text for r in read_records(stream, "jsonl", field="a.b")] == ["b: 4111111111111111"]
    stream = io.StringIO('{"a": [{"b": "x"}]}\n')
    assert list(read_records(stream, "jsonl", field="a.0.b")) == [Record(1, "b: x")]
    stream = io.StringIO('{"a": [{"b": "x"}]}\n')
    assert list(read_records(stream, "jsonl", field="a")) == [Record(1, "b: x")]


def test_when_bytes_are_counted_then_every_line_is_reported() -> None:
    seen: list[int] = []
    list(read_records(io.StringIO("é\nab\n"), "text", on_bytes=seen.append))
    assert seen == [3, 3]


def test_when_csv_rows_are_read_then_quoted_newlines_stay_in_one_record() -> None:
    stream = io.StringIO('name,note\nAda,"two\nlines"\n')
    assert list(read_records(stream, "csv")) == [Record(1, "name: Ada\nnote: two\nlines")]
    stream = io.StringIO('name,note\nAda,"two\nlines"\n')
    assert list(read_records(stream, "csv", field="note")) == [Record(1, "note: two\nlines")]


def test_when_a_column_name_is_the_only_context_then_it_reaches_the_scanner() -> None:
    stream = io.StringIO("name,account_number\nAda,12345678901\n")
    (record,) = read_records(stream, "csv")
    assert [f.type for f in Scanner().scan(record.text)] == ["US_BANK_NUMBER"]
