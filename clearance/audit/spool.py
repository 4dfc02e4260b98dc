"""The audit spool: a local, append-only, checksummed file that holds records while the audit store is down.

When a batch cannot be written to the store, the writer appends it here and fsyncs once for the whole batch (one
group commit for every request the batch carries); a record is durable once that returns. When the store is back,
the writer replays the spool in the order it was written, acknowledging as it goes, and empties the file once all
of it is in the store. Replays are exactly once because every row carries a ``spool_key`` (its instance and a
sequence number) that the store checks before inserting a replayed row: a crash between "inserted" and
"acknowledged" replays rows the store already holds, and they are skipped.

The file (``records.spool``) is a sequence of entries, each ``length (4 bytes, big-endian) | CRC-32 of the payload
(4 bytes) | payload`` with the payload the row as JSON. On open, the entries are read back and the first one that is
short (a write torn by a crash) or whose checksum fails ends the file: what follows it is moved aside to
``records.spool.corrupt-<offset>`` (kept for an operator, never replayed) and the file cut there. The replay
position (``records.spool.done``) is written atomically, without an fsync: a lost update only means rows are
replayed again, which the ``spool_key`` check makes harmless.

The spool is bounded (``max_bytes``): an append that would pass it raises ``SpoolFull`` and writes nothing. One
task (the store's writer) uses a spool at a time; its methods block and are run on a worker thread.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger("clearance.audit")

FILE_NAME = "records.spool"
_HEADER = struct.Struct(">II")
_READ_BYTES = 8 * 1024 * 1024
_SLOTS = 64


class SpoolConfig(BaseModel):
    """``audit.spool``: where records wait while the audit store is down (docs/audit.md, "Never lose a record")."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: Path | None = None
    """The spool's directory. None: next to a SQLite database file (``<file>.spool``), else
    ``$XDG_STATE_HOME/clearance/spool/<hash of the database URL>`` (``~/.local/state/...`` without it)."""
    max_bytes: int = Field(default=256 * 1024 * 1024, ge=4096)
    """The most bytes the spool holds. Full, with the store down, the gateway refuses requests (``when_full``)."""
    when_full: Literal["refuse", "serve_public"] = "refuse"
    """With the store down and the spool full or unwritable: ``refuse`` every request with 503 ``audit_unavailable``,
    or ``serve_public``: keep serving requests whose data is ``public`` (their records are then lost)."""


def default_directory(database_url: str) -> Path | None:
    """The spool directory when none is configured: None for an in-memory SQLite database (nothing to protect
    beyond the process, which loses that database anyway)."""
    if database_url.startswith("sqlite"):
        path = database_url.split("///", 1)[1] if "///" in database_url else ""
        path = path.split("?", 1)[0]
        if not path or path == ":memory:":
            return None
        return Path(path + ".spool")
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    database = hashlib.sha256(database_url.encode()).hexdigest()[:16]  # one database's records never meet another's
    return Path(state) / "clearance" / "spool" / database


class SpoolFull(Exception):
    """An append would pass ``max_bytes``: nothing was written."""


@dataclass(frozen=True, slots=True)
class Spooled:
    """One row read back from the spool, and the offset just past its entry (what to acknowledge)."""

    row: dict[str, Any]
    end: int


def _encode(row: dict[str, Any]) -> bytes:
    payload = json.dumps(row, separators=(",", ":"), default=_datetime).encode()
    return _HEADER.pack(len(payload), zlib.crc32(payload)) + payload


def _datetime(value: object) -> object:
    """Datetimes and bytes (a record's sealed originals: ciphertext) as JSON objects ``_decode_hook`` reads back."""
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    raise TypeError(f"cannot spool a {type(value).__name__}")


def _decode_hook(value: dict[str, Any]) -> Any:
    if len(value) == 1 and "$datetime" in value:
        return datetime.fromisoformat(value["$datetime"])
    if len(value) == 1 and "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return value


def _scan(data: bytes, start: int = 0) -> tuple[list[Spooled], int]:
    """The whole entries from ``start`` on, and the offset where the good part of ``data`` ends."""
    entries: list[Spooled] = []
    offset = start
    while offset + _HEADER.size <= len(data):
        length, crc = _HEADER.unpack_from(data, offset)
        body = offset + _HEADER.size
        payload = data[body : body + length]
        if len(payload) < length or zlib.crc32(payload) != crc:
            break
        entries.append(Spooled(json.loads(payload, object_hook=_decode_hook), body + length))
        offset = body + length
    return entries, offset


class Spool:
    """The spool file in ``directory``; see the module docstring. Open with ``Spool.open``."""

    def __init__(self, directory: Path, max_bytes: int, size: int, done: int, lock: int) -> None:
        self.directory = directory
        self._lock = lock
        self.max_bytes = max_bytes
        self._path = directory / FILE_NAME
        self._done_path = directory / (FILE_NAME + ".done")
        self._size = size
        self._done = done

    @classmethod
    def open(cls, base: Path, max_bytes: int) -> Spool:
        """Open (or create) a spool under ``base``, cutting a torn or corrupt tail (see the module docstring).

        Each process holds its spool with an exclusive lock: the first of ``base/0``, ``base/1``... that no one
        else holds is taken, so instances sharing a host each get one, and a restarted one finds the spool it left.
        """
        for slot in range(_SLOTS):
            directory = base / str(slot)
            directory.mkdir(parents=True, exist_ok=True)
            lock = os.open(directory / "lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(lock)
                continue
            try:
                return cls._open_locked(directory, max_bytes, lock)
            except BaseException:
                os.close(lock)
                raise
        raise OSError(f"all {_SLOTS} audit spools under {base} are in use")

    @classmethod
    def _open_locked(cls, directory: Path, max_bytes: int, lock: int) -> Spool:
        path = directory / FILE_NAME
        data = path.read_bytes() if path.exists() else b""
        _, good = _scan(data)
        if good < len(data):
            aside = directory / f"{FILE_NAME}.corrupt-{good}"
            aside.write_bytes(data[good:])
            log.error(
                "audit spool: a torn or corrupt tail was cut and set aside",
                extra={"offset": good, "bytes": len(data) - good, "file": aside.name},
            )
            with path.open("r+b") as handle:
                handle.truncate(good)
                os.fsync(handle.fileno())
        done = 0
        done_path = directory / (FILE_NAME + ".done")
        if done_path.exists():
            text = done_path.read_text().strip()
            done = min(int(text), good) if text.isdigit() else 0
        spool = cls(directory, max_bytes, good, done, lock)
        if done and done == good:
            spool._reset()
        return spool

    @property
    def size(self) -> int:
        """Bytes in the spool file, replayed ones included until it is emptied."""
        return self._size

    @property
    def empty(self) -> bool:
        """Whether every spooled row has been replayed."""
        return self._done >= self._size

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Append ``rows`` in order and fsync once: they are durable when this returns. ``SpoolFull`` (nothing
        written) when they do not fit; ``OSError`` when the disk refuses (what was written of them is cut)."""
        blob = b"".join(_encode(row) for row in rows)
        if self._size + len(blob) > self.max_bytes:
            raise SpoolFull(f"the audit spool holds {self._size} of {self.max_bytes} bytes")
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            try:
                written = os.write(fd, blob)
                if written != len(blob):
                    raise OSError("short write to the audit spool")
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, self._size)  # a partial batch is not left behind for the next append
                raise
        finally:
            os.close(fd)
        if self._size == 0:
            self._sync_directory()  # the file's own entry in the directory
        self._size += len(blob)

    def pending(self, limit: int) -> list[Spooled]:
        """Up to ``limit`` rows not yet replayed, oldest first."""
        if self.empty:
            return []
        with self._path.open("rb") as handle:
            handle.seek(self._done)
            data = handle.read(min(self._size - self._done, _READ_BYTES))
        entries, _ = _scan(data)
        return [Spooled(e.row, e.end + self._done) for e in entries[:limit]]

    def acknowledge(self, end: int) -> None:
        """Everything before ``end`` is in the store; the spool is emptied once all of it is."""
        self._done = end
        if self.empty:
            self._reset()
            return
        temporary = self._done_path.with_suffix(".tmp")
        temporary.write_text(str(end))
        os.replace(temporary, self._done_path)

    def close(self) -> None:
        """Release the spool for another process (what it holds stays for the next one to replay)."""
        if self._lock >= 0:
            os.close(self._lock)
            self._lock = -1

    def _reset(self) -> None:
        self._path.unlink(missing_ok=True)
        self._done_path.unlink(missing_ok=True)
        self._size = self._done = 0

    def _sync_directory(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
