"""The originals a record may keep, sealed (``audit.originals``): the request as the caller sent it and the answer as
the upstream returned it, before any masking or restoring, encrypted per record (``clearance.audit.envelope``).

What is sealed is one JSON document, ``{"request": text, "answer": text, "truncated": bool}``, each side cut at
``audit.max_text_bytes``. The envelope goes to its own table (``audit_originals``); the record's row holds only the
SHA-256 of the envelope's bytes (``originals_sha256``), which its leaf in the audit tree covers. Deleting the
envelope (or its wrapped data key) therefore erases the content for good, while every proof still verifies: the
tree never held a byte of the ciphertext.

The plaintext lives only in memory, for the request: the exchange seals it when it ends (``Exchange.finish``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from clearance.audit.envelope import Envelope, Keyring, OriginalsEncryptionConfig, open_envelope, seal

RecordMode = Literal["full", "masked", "metadata"]
DEFAULT_MODES: Final[tuple[RecordMode, ...]] = ("full",)


class OriginalsConfig(BaseModel):
    """``audit.originals``: the keyring (``encryption``: ``active``, ``keys``) and the record modes whose records
    keep originals (default ``[full]``: ``full`` is the mode for originals, ``masked`` keeps only the redacted
    text)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encryption: OriginalsEncryptionConfig
    modes: list[RecordMode] = Field(default_factory=lambda: list(DEFAULT_MODES), min_length=1)


@dataclass(frozen=True, slots=True)
class Originals:
    """The keyring that seals and opens originals, and the record modes that keep them."""

    keyring: Keyring
    modes: frozenset[str] = frozenset(DEFAULT_MODES)

    @classmethod
    def from_config(cls, config: OriginalsConfig) -> Originals:
        """Reads every key now: a missing or malformed one stops the gateway before it serves."""
        return cls(config.encryption.load(), frozenset(config.modes))


@dataclass(frozen=True, slots=True)
class Sealed:
    """One record's sealed originals: the envelope's bytes, their SHA-256 (hex, for the leaf) and the KEK id."""

    envelope: bytes
    sha256: str
    kek_id: str


@dataclass(frozen=True, slots=True)
class Revealed:
    """One record's originals, opened: the request as sent, the answer as returned (None when there was none)."""

    request: str | None
    answer: str | None
    truncated: bool


def _cut(data: bytes | None, limit: int) -> tuple[str | None, bool]:
    if data is None:
        return None, False
    if len(data) <= limit:
        return data.decode(errors="replace"), False
    return data[:limit].decode(errors="ignore"), True


def envelope_sha256(envelope: bytes) -> str:
    """The hash a record's row keeps of its originals' envelope (what the leaf covers)."""
    return hashlib.sha256(envelope).hexdigest()


def seal_originals(
    request: bytes | None, answer: bytes | None, *, record_id: str, keyring: Keyring, limit: int
) -> Sealed:
    """Seal one exchange's originals under a fresh data key, bound to ``record_id`` (the record's request id)."""
    request_text, cut_request = _cut(request, limit)
    answer_text, cut_answer = _cut(answer, limit)
    plaintext = orjson.dumps({"request": request_text, "answer": answer_text, "truncated": cut_request or cut_answer})
    envelope = seal(plaintext, record_id, keyring)
    data = envelope.to_bytes()
    return Sealed(data, envelope_sha256(data), envelope.kek_id)


def open_originals(envelope: bytes, *, record_id: str, keyring: Keyring) -> Revealed:
    """Open a record's originals (``DecryptionFailed``, ``UnknownKeyId``, ``MalformedEnvelope`` as
    ``clearance.audit.envelope`` raises them: none holds a value)."""
    document = orjson.loads(open_envelope(Envelope.from_bytes(envelope), record_id, keyring))
    request, answer = document.get("request"), document.get("answer")
    return Revealed(
        request if isinstance(request, str) else None,
        answer if isinstance(answer, str) else None,
        document.get("truncated") is True,
    )
