"""The JSON lines sink: each record's row as one line of JSON, appended to a file (or written to standard output)
and flushed after every batch.

The file is opened for appending when the sink starts (a path it cannot open stops the gateway's start) and
reopened after a failed write, so a log rotator that moves the file away (``copytruncate`` or a move followed by
a restart) loses nothing. Writes run on a thread: a slow disk never holds the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from clearance.audit.sink_config import JsonlSinkConfig
from clearance.audit.sinks import SinkFailed, SinkRecord
from clearance.exceptions import ConfigError

STDOUT = Path("-")


class JsonlSink:
    """Appends records to ``config.path`` (``-``: standard output), one JSON object per line."""

    batch_size = 1000
    flush_interval = 0.0

    def __init__(self, config: JsonlSinkConfig, name: str) -> None:
        self.name = name
        self.timeout = config.timeout
        self._path = config.path
        self._fsync = config.fsync
        self._handle: BinaryIO | None = None

    async def start(self) -> None:
        """Open the file: one the gateway cannot append to stops its start (``ConfigError``)."""
        try:
            await asyncio.to_thread(self._open)
        except OSError as exc:
            raise ConfigError(
                f"audit sink {self.name}: cannot append to {self._path} ({exc.strerror or type(exc).__name__}); "
                "fix the path or its permissions"
            ) from None

    def _open(self) -> BinaryIO:
        if self._handle is None:
            if self._path == STDOUT:
                self._handle = sys.stdout.buffer
            else:
                self._path.parent.mkdir(parents=True, exist_ok=True)
                self._handle = self._path.open("ab")
        return self._handle

    async def send(self, records: Sequence[SinkRecord]) -> None:
        data = b"".join(record.line + b"\n" for record in records)
        try:
            await asyncio.to_thread(self._write, data)
        except OSError as exc:
            await asyncio.to_thread(self._drop_handle)
            raise SinkFailed(f"{self.name}: cannot write {self._path}: {exc.strerror or type(exc).__name__}") from None

    def _write(self, data: bytes) -> None:
        handle = self._open()
        handle.write(data)
        handle.flush()
        if self._fsync and self._path != STDOUT:
            os.fsync(handle.fileno())

    def _drop_handle(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None and self._path != STDOUT:
            with contextlib.suppress(OSError):
                handle.close()

    async def close(self) -> None:
        await asyncio.to_thread(self._drop_handle)
