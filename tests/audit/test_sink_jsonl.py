"""The JSON lines sink: records appended to a file, one JSON object per line, flushed after each batch (readable
before the sink closes), never over what the file already holds; standard output; a path it cannot write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from clearance.audit.sink_config import JsonlSinkConfig
from clearance.audit.sink_jsonl import JsonlSink
from clearance.audit.sinks import SinkFailed, SinkRecord
from clearance.audit.store import _row
from clearance.exceptions import ConfigError
from tests.audit.conftest import trail_record


def records(first: int, count: int) -> list[SinkRecord]:
    rows: list[dict[str, Any]] = [{**_row(trail_record(i)), "id": i} for i in range(first, first + count)]
    return [SinkRecord.from_row(row) for row in rows]


async def test_when_batches_are_sent_then_they_are_appended_and_flushed_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "out" / "audit.jsonl"
    path.parent.mkdir()
    path.write_text('{"kept": true}\n')
    sink = JsonlSink(JsonlSinkConfig(path=path, fsync=True), "file")
    await sink.start()
    try:
        await sink.send(records(1, 2))
        assert len(path.read_text().splitlines()) == 3  # flushed: readable while the sink is open
        await sink.send(records(3, 1))
    finally:
        await sink.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"kept": True}
    assert [line["id"] for line in lines[1:]] == [1, 2, 3]
    assert lines[1]["request_id"] == "req-1" and lines[1]["created_at"] == "2023-11-14T22:13:21.250000Z"


async def test_when_the_path_is_a_dash_then_lines_go_to_standard_output(capfd: pytest.CaptureFixture[str]) -> None:
    sink = JsonlSink(JsonlSinkConfig(path=Path("-")), "stdout")
    await sink.start()
    await sink.send(records(1, 2))
    await sink.close()
    out = capfd.readouterr().out.splitlines()
    assert [json.loads(line)["id"] for line in out] == [1, 2]


async def test_when_the_file_cannot_be_opened_then_start_and_send_fail_naming_the_path(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.mkdir()  # the name is a directory: it cannot be opened for appending
    sink = JsonlSink(JsonlSinkConfig(path=path), "file")
    with pytest.raises(ConfigError, match="cannot append to"):  # at start: the gateway refuses to start
        await sink.start()
    with pytest.raises(SinkFailed, match="cannot write") as failure:  # later (the file moved away): retried
        await sink.send(records(1, 1))
    assert str(path) in str(failure.value) and failure.value.retry
    await sink.close()
