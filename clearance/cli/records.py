"""Records for batch classification: a record per line (text, JSONL) or per row (CSV), and the text to scan.

``read_records`` yields ``Record(number, text, error)``; ``on_bytes`` is told how many bytes each record took,
for a progress bar. In JSONL and CSV, ``field`` names the JSON field (a dotted path) or the column to scan;
without it every string in the record is scanned. Each value is scanned as ``name: value`` with its key or
column name, because the name is often the only context there is (``{"ssn": "123456789"}``, an
``account_number`` column).
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


def _strings(value: Any, name: str = "") -> Iterator[str]:
    """Every string in a JSON value, each as ``name: value`` with the key it is under."""
    if isinstance(value, str):
        yield f"{name}: {value}" if name else value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, str(key))
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, name)


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
    name = field.rsplit(".", 1)[-1]
    if isinstance(value, (dict, list)):
        return Record(number, "\n".join(_strings(value, name)))
    return Record(number, f"{name}: {value}")


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
                yield Record(number, f"{field}: {row.get(field) or ''}")
            else:
                yield Record(number, "\n".join(f"{k}: {v}" for k, v in row.items() if isinstance(v, str) and v))
        return
    for number, line in enumerate(lines, 1):
        stripped = line.rstrip("\r\n")
        if fmt == "jsonl":
            if stripped.strip():
                yield _json_record(number, stripped, field)
        else:
            yield Record(number, stripped)
