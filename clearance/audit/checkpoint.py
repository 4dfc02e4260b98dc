"""Signed checkpoints: the C2SP tlog-checkpoint body (origin, tree size, root hash) in a signed note.

A checkpoint commits to the audit tree at one size (``clearance.audit.merkle``): the log's origin, the tree size
and its RFC 6962 root hash, optionally followed by extension lines. Signed (``clearance.audit.note``) with a key
that never sits in the database, it means that whoever can rewrite the database still cannot forge one;
``clearance audit verify`` checks records against saved checkpoints offline, with only the verifier key.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from clearance.audit.note import (
    Ed25519NoteSigner,
    NoteSigner,
    NoteVerifier,
    decode_base64,
    encode_base64,
    load_signer,
    open_note,
    sign_note,
)
from clearance.exceptions import MalformedNote, SignatureRejected
from clearance.secretref import SecretRef

MAX_TREE_SIZE = 2**63 - 1
"""The largest tree size a checkpoint may state (a signed 64-bit integer, as the Go tools parse it)."""

_SIZE = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head in the C2SP tlog-checkpoint format: origin, size, root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for what, line in [("origin", self.origin), *(("extension line", e) for e in self.extensions)]:
            if not line or any(ord(c) < 0x20 for c in line):
                raise MalformedNote(f"a checkpoint's {what} must be non-empty, on one line, without control characters")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise MalformedNote(f"a checkpoint's tree size must be within 0..{MAX_TREE_SIZE}")
        if len(self.root_hash) != 32:
            raise MalformedNote(f"a checkpoint's root hash is 32 bytes, not {len(self.root_hash)}")

    def text(self) -> str:
        """The note text: one line each for the origin, the size, the base64 root and each extension."""
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), encode_base64(self.root_hash), *self.extensions)
        )

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """The checkpoint in a note's text; ``MalformedNote`` saying which line breaks the format."""
        if not text.endswith("\n"):
            raise MalformedNote("a checkpoint's text must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise MalformedNote(
                f"a checkpoint has at least 3 lines (origin, size, root hash); this one has {len(lines)}"
            )
        origin, size, root, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise MalformedNote("a checkpoint's second line must be the tree size in decimal, without leading zeroes")
        raw = decode_base64(root)
        if raw is None or len(raw) != 32 or encode_base64(raw) != root:
            raise MalformedNote("a checkpoint's third line must be the base64 of a 32-byte root hash")
        return cls(origin, int(size), raw, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The signed note of a checkpoint. The log's own key should be named after its origin (tlog-checkpoint)."""
    return sign_note(checkpoint.text(), signers)


def open_checkpoint(
    message: str | bytes, verifiers: Sequence[NoteVerifier], *, origin: str | None = None
) -> Checkpoint:
    """The checkpoint in a signed note that a trusted key signed; with ``origin``, it must be that log's."""
    checkpoint = Checkpoint.parse(open_note(message, verifiers).text)
    if origin is not None and checkpoint.origin != origin:
        raise SignatureRejected(f"the checkpoint is for log {checkpoint.origin!r}, not {origin!r}")
    return checkpoint


class CheckpointSigningConfig(BaseModel):
    """Where the checkpoint signer key is read: a file or an environment variable holding the PRIVATE+KEY string,
    never the database."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: SecretRef

    def load(self) -> Ed25519NoteSigner:
        return load_signer(self.key)
