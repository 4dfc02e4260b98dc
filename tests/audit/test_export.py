"""Checkpoint exports: a file per checkpoint, never overwritten; a JSON line on a stream."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from clearance.audit.export import DirectoryExport, HttpExport, StreamExport, checkpoint_file_name
from clearance.exceptions import CheckpointExportFailed


def test_when_a_checkpoint_is_exported_to_a_directory_then_one_file_named_by_size_holds_it(tmp_path: Path) -> None:
    DirectoryExport(tmp_path / "cp").write(12, "note\n")

    assert [p.name for p in (tmp_path / "cp").iterdir()] == ["00000000000000000012.checkpoint"]
    assert (tmp_path / "cp" / checkpoint_file_name(12)).read_text() == "note\n"


def test_when_a_checkpoint_is_exported_under_a_name_then_it_sits_beside_the_one_of_its_size(tmp_path: Path) -> None:
    export = DirectoryExport(tmp_path)
    export.write(3, "note\n")
    export.write_named("00000000000000000003-purge-0000000001.checkpoint", 3, "purge note\n")

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "00000000000000000003-purge-0000000001.checkpoint",
        "00000000000000000003.checkpoint",
    ]
    with pytest.raises(CheckpointExportFailed):
        export.write_named("00000000000000000003-purge-0000000001.checkpoint", 3, "another\n")
    assert (tmp_path / "00000000000000000003-purge-0000000001.checkpoint").read_text() == "purge note\n"


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


class _Witness(BaseHTTPRequestHandler):
    """A loopback endpoint that keeps what it is sent and answers with the status the test sets."""

    status = 201
    received: ClassVar[list[tuple[str | None, str | None, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.headers["Clearance-Checkpoint-Size"], self.headers["Authorization"], body))
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def witness() -> Iterator[tuple[str, type[_Witness]]]:
    handler = type("Witness", (_Witness,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/checkpoints", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_when_a_checkpoint_is_posted_then_the_endpoint_gets_the_note_its_size_and_the_token(
    witness: tuple[str, type[_Witness]],
) -> None:
    url, handler = witness
    HttpExport(url, token="t0k").write(7, "note\n")

    assert handler.received == [("7", "Bearer t0k", b"note\n")]


def test_when_the_endpoint_refuses_then_the_export_fails_saying_so(witness: tuple[str, type[_Witness]]) -> None:
    url, handler = witness
    handler.status = 503

    with pytest.raises(CheckpointExportFailed, match="answered 503 to checkpoint 7"):
        HttpExport(url).write(7, "note\n")


def test_when_the_url_is_not_http_then_the_export_is_refused() -> None:
    with pytest.raises(CheckpointExportFailed, match="http"):
        HttpExport("file:///etc/passwd")
