"""Periodic signed checkpoints of the audit tree: taken, stored, and exported as they are made.

Every ``audit.integrity.checkpoint_interval`` seconds, and once more when the store closes, the tree head is read;
if the tree grew since the newest stored checkpoint, a checkpoint (origin, size, root) is signed with the key from
``audit.integrity.signing_key`` (a file or an environment variable, never the database), stored in
``audit_checkpoints`` and handed to each export (``clearance.audit.export``). Several instances sharing one database
may sign the same size: Ed25519 is deterministic, so they produce the same note, stored once. An export that fails
is retried at the next tick; the checkpoint is in the database meanwhile. A tree smaller than a checkpoint already
signed (or of its size with another root) is never signed: the trail was cut, and the error says so each tick.

Without a signing key, integrity is off: records are still written (and kept in the tree), nothing is signed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl
from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from clearance.audit.checkpoint import Checkpoint, sign_checkpoint
from clearance.audit.export import CheckpointExport, DirectoryExport, HttpExport, StreamExport
from clearance.audit.merkle import MerkleFrontier
from clearance.audit.note import NoteSigner, load_signer
from clearance.audit.tree import lock_head
from clearance.db.tables import audit_checkpoints
from clearance.exceptions import ProofFailed
from clearance.secretref import SecretRef

log = logging.getLogger("clearance.audit")


class HttpExportConfig(BaseModel):
    """An HTTP endpoint that keeps each checkpoint POSTed to it (any 2xx answer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrl
    token: SecretRef | None = None
    """Sent as ``Authorization: Bearer``; from a file or a variable."""
    timeout: Annotated[float, Field(gt=0)] = 10.0


class CheckpointExportConfig(BaseModel):
    """Where each checkpoint is written as it is made (any number of these)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    directory: Path | None = None
    """One file per checkpoint, named by tree size, written atomically and never overwritten."""
    stdout: bool = False
    """One JSON line per checkpoint on standard output, for a log shipper feeding a write-once store."""
    http: HttpExportConfig | None = None
    """POST each checkpoint to an HTTP endpoint."""


class IntegrityConfig(BaseModel):
    """``audit.integrity``: signed checkpoints of the audit tree. Off (nothing signed) without ``signing_key``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    signing_key: SecretRef | None = None
    """The checkpoint signer key (``PRIVATE+KEY+...``, from ``clearance audit keygen``): a file or a variable."""
    origin: Annotated[str, Field(min_length=1, pattern=r"^[^\x00-\x1f]+$")] | None = None
    """The log's name, first line of every checkpoint; defaults to the signing key's name."""
    checkpoint_interval: Annotated[float, Field(gt=0)] = 60.0
    """Seconds between checkpoints (one is taken only when the tree grew)."""
    export: CheckpointExportConfig = CheckpointExportConfig()

    def exports(self) -> list[CheckpointExport]:
        exports: list[CheckpointExport] = []
        if self.export.directory is not None:
            exports.append(DirectoryExport(self.export.directory))
        if self.export.stdout:
            exports.append(StreamExport())
        if self.export.http is not None:
            http = self.export.http
            token = None if http.token is None else http.token.resolve()
            exports.append(HttpExport(str(http.url), token=token, timeout=http.timeout))
        return exports


class Checkpointer:
    """Signs, stores and exports checkpoints of the tree in ``engine``'s database. ``checkpoint`` blocks (run it
    on a thread); ``run`` calls it every ``interval`` seconds until cancelled."""

    def __init__(
        self,
        engine: Engine,
        signer: NoteSigner,
        *,
        origin: str,
        exports: Sequence[CheckpointExport] = (),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._signer = signer
        self._origin = origin
        self._exports = tuple(exports)
        self._now = now
        self._unexported: dict[int, str] = {}
        self._signed: tuple[int, bytes] | None = None

    @classmethod
    def from_config(cls, engine: Engine, config: IntegrityConfig) -> Checkpointer | None:
        """The checkpointer ``config`` asks for, its key read now; ``None`` (with a warning) without a key."""
        if config.signing_key is None:
            log.warning(
                "audit integrity is off: no audit.integrity.signing_key, so no checkpoint is signed "
                "(records are still written); see docs/audit-integrity.md"
            )
            return None
        signer = load_signer(config.signing_key)
        return cls(engine, signer, origin=config.origin or signer.name, exports=config.exports())

    def checkpoint(self) -> Checkpoint | None:
        """Take a checkpoint if the tree grew since the newest stored one; export whatever is not out yet."""
        taken = self._take()
        self._export()
        return taken

    def _take(self) -> Checkpoint | None:
        with self._engine.begin() as connection:
            # under the lock that orders appends: another process's writer or checkpointer (several workers,
            # several instances) cannot add leaves or a newer checkpoint between this read and the insert, which
            # would make a tree read here look shrunk next to that checkpoint, or sign a size already superseded
            frontier = lock_head(connection).frontier
            newest = connection.execute(
                select(audit_checkpoints.c.size, audit_checkpoints.c.root_hash)
                .order_by(audit_checkpoints.c.size.desc())
                .limit(1)
            ).first()
            self._refuse_a_shrunk_tree(frontier, None if newest is None else (int(newest[0]), bytes(newest[1])))
            if frontier.size == 0 or (newest is not None and frontier.size <= newest[0]):
                return None
            checkpoint = Checkpoint(self._origin, frontier.size, frontier.root())
            note = sign_checkpoint(checkpoint, [self._signer])
            insert: Any = (postgresql if connection.dialect.name == "postgresql" else sqlite).insert(audit_checkpoints)
            connection.execute(
                insert.values(
                    size=checkpoint.size, root_hash=checkpoint.root_hash, note=note, created_at=self._now()
                ).on_conflict_do_nothing(index_elements=["size"])
            )
        self._unexported[checkpoint.size] = note
        self._signed = (checkpoint.size, checkpoint.root_hash)
        log.info("audit checkpoint signed", extra={"size": checkpoint.size})
        return checkpoint

    def _refuse_a_shrunk_tree(self, frontier: MerkleFrontier, stored: tuple[int, bytes] | None) -> None:
        """Never sign over a tree that lost leaves since a checkpoint (this process's or the database's newest):
        the cheap half of a consistency check, needing no leaf. A rewrite that keeps or grows the size is left to
        ``clearance audit verify``."""
        for known in (self._signed, stored):
            if known is None:
                continue
            size, root = known
            if frontier.size < size or (frontier.size == size and frontier.root() != root):
                raise ProofFailed(
                    f"the audit tree has {frontier.size} leaves but checkpoint {size} was signed over a different "
                    "tree: the trail was cut or rewritten; not signing. Run clearance audit verify"
                )

    def _export(self) -> None:
        for size, note in sorted(self._unexported.items()):
            try:
                for export in self._exports:
                    export.write(size, note)
            except Exception as exc:  # keep it: the next tick tries again
                log.error("audit checkpoint export failed", extra={"size": size, "error": str(exc)})
                return
            del self._unexported[size]

    async def run(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.to_thread(self.checkpoint)
            except ProofFailed as exc:
                log.error("audit checkpoint refused", extra={"error": exc.message})
            except Exception as exc:  # the database is down: the next tick tries again
                log.error("audit checkpoint failed", extra={"error": type(exc).__name__})
