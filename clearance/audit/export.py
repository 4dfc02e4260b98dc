"""Where checkpoints go as they are made, out of the database operator's reach: a directory, standard output, or
an HTTP endpoint.

A directory export writes one file per checkpoint, named by the tree size (zero-padded, so names sort by size),
atomically (a temporary file, synced, then hard-linked into place) and never over an existing file: a file already
there with other content is an error, not replaced. Point it at storage the database's writers cannot rewrite (a
mount of a WORM bucket, another host's share). Standard output gets one JSON line per checkpoint
(``{"audit_checkpoint": {"size": ..., "note": ...}}``) for a log shipper feeding a write-once store; the gateway's
logs go to standard error, so the two never mix. An HTTP export POSTs the note (``text/plain``, with a
``Clearance-Checkpoint-Size`` header and an optional bearer token) and counts any 2xx answer as stored.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import urllib.error
import urllib.request
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
        self.write_named(checkpoint_file_name(size), size, note)

    def write_named(self, name: str, size: int, note: str) -> None:
        """Write ``note`` as ``name`` (a purge's checkpoint has a name of its own: ``clearance.audit.purge``)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / name
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


class HttpExport:
    """POST each checkpoint to ``url`` (a transparency log's witness, an append-only store); a 2xx answer means kept."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise CheckpointExportFailed(f"a checkpoint HTTP export needs an http(s) URL, not {url!r}")
        self.url = url
        self._token = token
        self._timeout = timeout

    def write(self, size: int, note: str) -> None:
        headers = {"Content-Type": "text/plain; charset=utf-8", "Clearance-Checkpoint-Size": str(size)}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        # the scheme is checked above: http(s) only
        request = urllib.request.Request(self.url, data=note.encode(), headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except OSError as exc:
            raise CheckpointExportFailed(f"checkpoint {size} not sent to {self.url}: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            raise CheckpointExportFailed(f"{self.url} answered {status} to checkpoint {size}; it will be sent again")
