"""Records for batch classification: a record per line (text, JSONL) or per row (CSV), and the text to scan.

``read_records`` yields ``Record(number, text, error)``; ``on_bytes`` is told how many bytes each record took,
for a progress bar. In JSONL and CSV, ``field`` names the JSON field (a dotted path) or the column to scan;
without it every string in the record is scanned.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TextIO

RecordFormat = Literal["text", "jsonl", "csv"]

_BY_SUFFIX: dict[str, RecordFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}


@dataclass(frozen=True, slots=True)
class Record:
    number: int
    """1-based line (text, JSONL) or data row (CSV) number."""
    text: str
    error: str | None = None


def detect_format(path: str) -> RecordFormat:
    return _BY_SUFFIX.get(Path(path).suffix.lower(), "text")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _field(value: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            raise KeyError(path)
    return value


def _json_record(number: int, line: str, field: str | None) -> Record:
    try:
        data = json.loads(line)
    except ValueError:
        return Record(number, "", "invalid_json")
    if field is None:
        return Record(number, "\n".join(_strings(data)))
    try:
        value = _field(data, field)
    except KeyError:
        return Record(number, "", "field_missing")
    return Record(number, value if isinstance(value, str) else "\n".join(_strings(value)) or str(value))


def _counted(lines: Iterable[str], on_bytes: Callable[[int], None]) -> Iterator[str]:
    for line in lines:
        on_bytes(len(line.encode("utf-8", "replace")))
        yield line


def read_records(
    stream: TextIO, fmt: RecordFormat, *, field: str | None = None, on_bytes: Callable[[int], None] = lambda n: None
) -> Iterator[Record]:
    lines = _counted(stream, on_bytes)
    if fmt == "csv":
        reader = csv.DictReader(lines)
        if field is not None and reader.fieldnames is not None and field not in reader.fieldnames:
            raise ValueError(f"column {field!r} is not in the header ({', '.join(reader.fieldnames)})")
        for number, row in enumerate(reader, 1):
            if field is not None:
                yield Record(number, row.get(field) or "")
            else:
                yield Record(number, "\n".join(v for v in row.values() if isinstance(v, str)))
        return
    for number, line in enumerate(lines, 1):
        stripped = line.rstrip("\r\n")
        if fmt == "jsonl":
            if stripped.strip():
                yield _json_record(number, stripped, field)
        else:
            yield Record(number, stripped)
