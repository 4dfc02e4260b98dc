"""Where checkpoints go as they are made, out of the database operator's reach: a directory, or standard output.

A directory export writes one file per checkpoint, named by the tree size (zero-padded, so names sort by size),
atomically (a temporary file, synced, then hard-linked into place) and never over an existing file: a file already
there with other content is an error, not replaced. Point it at storage the database's writers cannot rewrite (a
mount of a WORM bucket, another host's share). Standard output gets one JSON line per checkpoint
(``{"audit_checkpoint": {"size": ..., "note": ...}}``) for a log shipper feeding a write-once store; the gateway's
logs go to standard error, so the two never mix.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Protocol, TextIO

from clearance.exceptions import CheckpointExportFailed

SUFFIX = ".checkpoint"


def checkpoint_file_name(size: int) -> str:
    """The file a directory export writes the checkpoint of a tree of ``size`` leaves to."""
    return f"{size:020d}{SUFFIX}"


class CheckpointExport(Protocol):
    """Takes each signed checkpoint once it is stored. ``write`` raises when the checkpoint is not safely out."""

    def write(self, size: int, note: str) -> None: ...


class DirectoryExport:
    """One file per checkpoint in ``directory``, written atomically and never overwritten."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def write(self, size: int, note: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / checkpoint_file_name(size)
        data = note.encode()
        descriptor, temporary = tempfile.mkstemp(prefix=".checkpoint-", dir=self.directory)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temporary, target)  # fails where the name exists: a checkpoint is never replaced
            except FileExistsError:
                if target.read_bytes() != data:
                    raise CheckpointExportFailed(
                        f"{target} already holds a different checkpoint of size {size}: kept it, wrote nothing; "
                        "two signers or two logs share this directory"
                    ) from None
        finally:
            os.unlink(temporary)
        self._sync_directory()

    def _sync_directory(self) -> None:
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


class StreamExport:
    """One JSON line per checkpoint on a text stream (standard output by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def write(self, size: int, note: str) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(json.dumps({"audit_checkpoint": {"size": size, "note": note}}) + "\n")
        stream.flush()
