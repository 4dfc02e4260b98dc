"""Checkpoint exports: a file per checkpoint, never overwritten; a JSON line on a stream."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from clearance.audit.export import DirectoryExport, StreamExport, checkpoint_file_name
from clearance.exceptions import CheckpointExportFailed


def test_when_a_checkpoint_is_exported_to_a_directory_then_one_file_named_by_size_holds_it(tmp_path: Path) -> None:
    DirectoryExport(tmp_path / "cp").write(12, "note\n")

    assert [p.name for p in (tmp_path / "cp").iterdir()] == ["00000000000000000012.checkpoint"]
    assert (tmp_path / "cp" / checkpoint_file_name(12)).read_text() == "note\n"


def test_when_the_same_checkpoint_is_exported_twice_then_the_file_stays_as_it_was(tmp_path: Path) -> None:
    export = DirectoryExport(tmp_path)
    export.write(3, "note\n")
    export.write(3, "note\n")

    assert [p.name for p in tmp_path.iterdir()] == [checkpoint_file_name(3)]


def test_when_another_checkpoint_of_the_same_size_is_exported_then_it_is_refused_and_the_first_is_kept(
    tmp_path: Path,
) -> None:
    export = DirectoryExport(tmp_path)
    export.write(3, "first\n")

    with pytest.raises(CheckpointExportFailed, match="already holds a different checkpoint"):
        export.write(3, "second\n")

    assert (tmp_path / checkpoint_file_name(3)).read_text() == "first\n"
    assert [p.name for p in tmp_path.iterdir()] == [checkpoint_file_name(3)]


def test_when_a_checkpoint_is_exported_to_a_stream_then_it_is_one_json_line() -> None:
    stream = io.StringIO()
    StreamExport(stream).write(4, "origin\n4\nroot\n\n— sig\n")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0]) == {"audit_checkpoint": {"size": 4, "note": "origin\n4\nroot\n\n— sig\n"}}
