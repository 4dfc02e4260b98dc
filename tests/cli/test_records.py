from __future__ import annotations

import io

import pytest

from clearance.cli.records import Record, detect_format, read_records


@pytest.mark.parametrize(("path", "fmt"), [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv"),
                                           ("a.txt", "text"), ("-", "text")])  # fmt: skip
def test_when_a_path_is_given_then_its_format_follows_the_extension(path: str, fmt: str) -> None:
    assert detect_format(path) == fmt


def test_when_jsonl_is_read_then_strings_are_gathered_and_blank_lines_skipped() -> None:
    stream = io.StringIO('{"a": "x", "b": [1, "y", {"c": "z"}]}\n\n{"n": 5}\n')
    assert list(read_records(stream, "jsonl")) == [Record(1, "x\ny\nz"), Record(3, "")]


def test_when_a_field_holds_a_number_then_its_text_is_scanned() -> None:
    stream = io.StringIO('{"a": {"b": 4111111111111111}}\n{"a": [{"b": "x"}]}\n')
    assert [r.text for r in read_records(stream, "jsonl", field="a.b")] == ["4111111111111111", ""]
    stream = io.StringIO('{"a": [{"b": "x"}]}\n')
    assert list(read_records(stream, "jsonl", field="a.0.b")) == [Record(1, "x")]


def test_when_bytes_are_counted_then_every_line_is_reported() -> None:
    seen: list[int] = []
    list(read_records(io.StringIO("é\nab\n"), "text", on_bytes=seen.append))
    assert seen == [3, 3]


def test_when_csv_rows_are_read_then_quoted_newlines_stay_in_one_record() -> None:
    stream = io.StringIO('name,note\nAda,"two\nlines"\n')
    assert list(read_records(stream, "csv")) == [Record(1, "Ada\ntwo\nlines")]
    stream = io.StringIO('name,note\nAda,"two\nlines"\n')
    assert list(read_records(stream, "csv", field="note")) == [Record(1, "two\nlines")]
