"""Envelope encryption of the originals the audit trail may keep (``audit.originals``): AES-256-GCM, one data
key per record, wrapped by a key-encryption key (KEK) named by an id.

Why envelopes: each record's request and answer are sealed under their own fresh 256-bit data key and 96-bit
nonce, so no two records share a key and a nonce never repeats under one key. Only the small data key is
encrypted under the KEK, so rotating the KEK (a new active key for new records) leaves old records readable with
the retired keys kept in the keyring, and a KMS can hold the KEK and wrap data keys without ever seeing a record.

The record id is bound as associated data both to the ciphertext and to the wrapped data key: an envelope moved
to another record does not open. Every failure names the record, the KEK id and what to check, never the
plaintext or a key.

Wire format (version 1), as bytes::

    0x01 | u8 len(kek id) | kek id (ASCII) | u16 len(wrapped key) | wrapped key | nonce (12) | ciphertext+tag

and as JSON: ``{"v": 1, "kek": id, "wrapped_key": b64, "nonce": b64, "ciphertext": b64}``. A file KEK's wrapped
key is its own GCM nonce (12 bytes) followed by the encrypted data key and tag (48 bytes).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, ConfigDict, Field, model_validator

from clearance.exceptions import DecryptionFailed, MalformedEnvelope, MalformedKey, UnknownKeyId
from clearance.secretref import SecretRef

VERSION = 1
KEY_SIZE = 32
"""Bytes in a data key and in a KEK (AES-256)."""
NONCE_SIZE = 12
"""Bytes in a GCM nonce (96 bits, the size GCM is defined for)."""
TAG_SIZE = 16

KEK_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_KEK_ID = re.compile(KEK_ID_PATTERN)
_DATA_CONTEXT = b"clearance.audit.envelope.v1/data"
_WRAP_CONTEXT = b"clearance.audit.envelope.v1/key"


def _framed(*parts: bytes) -> bytes:
    """Length-prefixed concatenation: no two different part lists give the same bytes."""
    return b"".join(struct.pack(">I", len(part)) + part for part in parts)


def data_aad(record_id: str) -> bytes:
    """The associated data of a record's ciphertext: the record id, under a fixed context."""
    return _framed(_DATA_CONTEXT, record_id.encode())


def wrap_aad(kek_id: str, record_id: str) -> bytes:
    """The associated data of a wrapped data key: the KEK id and the record id, under a fixed context."""
    return _framed(_WRAP_CONTEXT, kek_id.encode(), record_id.encode())


class KeyWrapper(Protocol):
    """A key-encryption key: it wraps and unwraps data keys, and has an id stored in each envelope.

    ``LocalKek`` holds the key in memory; a KMS or HSM implementation calls its encrypt/decrypt operation with
    ``context`` as the additional authenticated data (an "encryption context"), and returns whatever blob the
    service gives back. ``unwrap`` raises ``DecryptionFailed`` when the blob or context is not the one wrapped.
    """

    @property
    def id(self) -> str: ...
    def wrap(self, data_key: bytes, context: bytes) -> bytes: ...
    def unwrap(self, wrapped: bytes, context: bytes) -> bytes: ...


class LocalKek:
    """A 256-bit KEK held in memory, wrapping data keys with AES-256-GCM under a fresh nonce each time."""

    __slots__ = ("_aead", "_id")

    def __init__(self, kek_id: str, key: bytes) -> None:
        if not _KEK_ID.fullmatch(kek_id):
            raise MalformedKey(f"a key-encryption key id must match {KEK_ID_PATTERN}")
        if len(key) != KEY_SIZE:
            raise MalformedKey(f"key-encryption key {kek_id} is {len(key)} bytes; AES-256 needs {KEY_SIZE}")
        self._id = kek_id
        self._aead = AESGCM(key)

    @property
    def id(self) -> str:
        return self._id

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        nonce = os.urandom(NONCE_SIZE)
        return nonce + self._aead.encrypt(nonce, data_key, context)

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        if len(wrapped) != NONCE_SIZE + KEY_SIZE + TAG_SIZE:
            raise DecryptionFailed(f"a data key wrapped by {self._id} is {NONCE_SIZE + KEY_SIZE + TAG_SIZE} bytes")
        try:
            return self._aead.decrypt(wrapped[:NONCE_SIZE], wrapped[NONCE_SIZE:], context)
        except InvalidTag:
            raise DecryptionFailed(f"the data key does not unwrap with key-encryption key {self._id}") from None

    def __repr__(self) -> str:
        return f"LocalKek({self._id})"


@dataclass(frozen=True, slots=True)
class Keyring:
    """The KEKs the gateway knows: ``active`` seals new records; every KEK (active or retired) opens old ones."""

    active: KeyWrapper
    retired: tuple[KeyWrapper, ...] = ()

    def __post_init__(self) -> None:
        ids = [self.active.id, *(k.id for k in self.retired)]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise MalformedKey(f"key-encryption key ids must be unique in a keyring; repeated: {', '.join(duplicates)}")

    def get(self, kek_id: str) -> KeyWrapper:
        for kek in (self.active, *self.retired):
            if kek.id == kek_id:
                return kek
        raise UnknownKeyId(
            f"the envelope was sealed with key-encryption key {kek_id!r}, which the keyring does not hold: "
            "keep retired keys in the keyring so that old records stay readable"
        )


@dataclass(frozen=True, slots=True)
class Envelope:
    """One sealed original: the KEK id, the wrapped data key, the nonce and the ciphertext (with its GCM tag)."""

    kek_id: str
    wrapped_key: bytes
    nonce: bytes
    ciphertext: bytes
    version: int = VERSION

    def __post_init__(self) -> None:
        if self.version != VERSION:
            raise MalformedEnvelope(f"envelope version {self.version} is not known; this gateway reads {VERSION}")
        if not _KEK_ID.fullmatch(self.kek_id):
            raise MalformedEnvelope(f"an envelope's key-encryption key id must match {KEK_ID_PATTERN}")
        if not 0 < len(self.wrapped_key) <= 0xFFFF:
            raise MalformedEnvelope("an envelope's wrapped key must be 1 to 65535 bytes")
        if len(self.nonce) != NONCE_SIZE:
            raise MalformedEnvelope(f"an envelope's nonce is {NONCE_SIZE} bytes, not {len(self.nonce)}")
        if len(self.ciphertext) < TAG_SIZE:
            raise MalformedEnvelope(f"an envelope's ciphertext holds at least its {TAG_SIZE}-byte tag")

    def to_bytes(self) -> bytes:
        kek = self.kek_id.encode("ascii")
        return b"".join(
            (
                bytes([self.version, len(kek)]),
                kek,
                struct.pack(">H", len(self.wrapped_key)),
                self.wrapped_key,
                self.nonce,
                self.ciphertext,
            )
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Envelope:
        reader = _Reader(data)
        version = reader.take(1)[0]
        if version != VERSION:
            raise MalformedEnvelope(f"envelope version {version} is not known; this gateway reads {VERSION}")
        kek = reader.take(reader.take(1)[0])
        wrapped = reader.take(struct.unpack(">H", reader.take(2))[0])
        nonce = reader.take(NONCE_SIZE)
        try:
            kek_id = kek.decode("ascii")
        except UnicodeDecodeError:
            raise MalformedEnvelope("an envelope's key-encryption key id is not ASCII") from None
        return cls(kek_id, wrapped, nonce, reader.rest(), version)

    def to_json(self) -> str:
        return json.dumps(
            {
                "v": self.version,
                "kek": self.kek_id,
                "wrapped_key": _b64(self.wrapped_key),
                "nonce": _b64(self.nonce),
                "ciphertext": _b64(self.ciphertext),
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Envelope:
        try:
            fields = json.loads(text)
        except (ValueError, UnicodeDecodeError):
            raise MalformedEnvelope("the envelope is not JSON") from None
        if not isinstance(fields, dict) or set(fields) != {"v", "kek", "wrapped_key", "nonce", "ciphertext"}:
            raise MalformedEnvelope("an envelope has exactly the fields v, kek, wrapped_key, nonce and ciphertext")
        version, kek = fields["v"], fields["kek"]
        if type(version) is not int or not isinstance(kek, str):
            raise MalformedEnvelope("an envelope's v is a number and its kek a string")
        return cls(kek, _unb64(fields, "wrapped_key"), _unb64(fields, "nonce"), _unb64(fields, "ciphertext"), version)


class _Reader:
    """Reads fields off the front of an envelope's bytes, refusing to run past the end."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def take(self, size: int) -> bytes:
        if self._at + size > len(self._data):
            raise MalformedEnvelope(f"the envelope ends after {len(self._data)} bytes, inside a field")
        part = self._data[self._at : self._at + size]
        self._at += size
        return part

    def rest(self) -> bytes:
        return self._data[self._at :]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(fields: Mapping[str, object], name: str) -> bytes:
    value = fields[name]
    if not isinstance(value, str):
        raise MalformedEnvelope(f"an envelope's {name} is a base64 string")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedEnvelope(f"an envelope's {name} is not base64") from None


def seal(plaintext: bytes, record_id: str, keyring: Keyring) -> Envelope:
    """Encrypt one record's original under a fresh data key, wrapped by the keyring's active KEK."""
    kek = keyring.active
    data_key = AESGCM.generate_key(bit_length=KEY_SIZE * 8)
    nonce = os.urandom(NONCE_SIZE)
    ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, data_aad(record_id))
    return Envelope(kek.id, kek.wrap(data_key, wrap_aad(kek.id, record_id)), nonce, ciphertext)


def open_envelope(envelope: Envelope, record_id: str, keyring: Keyring) -> bytes:
    """Decrypt one record's original. ``UnknownKeyId`` where its KEK is not in the keyring, ``DecryptionFailed``
    where the envelope belongs to another record or was changed."""
    kek = keyring.get(envelope.kek_id)
    try:
        data_key = kek.unwrap(envelope.wrapped_key, wrap_aad(envelope.kek_id, record_id))
    except DecryptionFailed as exc:
        raise DecryptionFailed(
            f"record {record_id}: {exc.message}: the envelope was changed or belongs to another record"
        ) from None
    if len(data_key) != KEY_SIZE:
        raise DecryptionFailed(f"record {record_id}: the unwrapped data key is not {KEY_SIZE} bytes")
    try:
        return AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, data_aad(record_id))
    except InvalidTag:
        raise DecryptionFailed(
            f"record {record_id}: the ciphertext does not decrypt: it was changed or belongs to another record"
        ) from None


def generate_kek() -> str:
    """A new KEK, as the base64 text to store in a file or secret manager (for ``clearance audit keygen``)."""
    return _b64(AESGCM.generate_key(bit_length=KEY_SIZE * 8))


def load_kek(kek_id: str, ref: SecretRef) -> LocalKek:
    """The KEK whose base64 text ``ref`` names. Errors name the variable or file, never the key."""
    where = f"environment variable {ref.env}" if ref.env is not None else f"file {ref.file}"
    try:
        key = base64.b64decode(ref.resolve().encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise MalformedKey(f"{where}: key-encryption key {kek_id} is not base64 of {KEY_SIZE} bytes") from None
    if len(key) != KEY_SIZE:
        raise MalformedKey(f"{where}: key-encryption key {kek_id} is {len(key)} bytes, not {KEY_SIZE}")
    return LocalKek(kek_id, key)


class KekConfig(BaseModel):
    """One key-encryption key: its id (stored in every envelope it seals) and where its base64 text is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=f"^{KEK_ID_PATTERN}$")
    key: SecretRef


class OriginalsEncryptionConfig(BaseModel):
    """``audit.originals`` encryption: the KEKs and which one seals new records. Rotate by adding a key and
    making it ``active``; keep the old ones listed so their records stay readable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    active: str
    keys: list[KekConfig] = Field(min_length=1)

    @model_validator(mode="after")
    def _active_is_listed(self) -> OriginalsEncryptionConfig:
        ids = [k.id for k in self.keys]
        if len(set(ids)) != len(ids):
            raise ValueError("each key id must appear once in 'keys'")
        if self.active not in ids:
            raise ValueError(f"'active' ({self.active}) must be the id of one of 'keys' ({', '.join(ids)})")
        return self

    def load(self) -> Keyring:
        """Read every KEK now (at start-up), so a missing or malformed key stops the gateway before it serves."""
        keks = {k.id: load_kek(k.id, k.key) for k in self.keys}
        return Keyring(keks[self.active], _retired(keks, self.active))


def _retired(keks: Mapping[str, LocalKek], active: str) -> tuple[KeyWrapper, ...]:
    return tuple(kek for kek_id, kek in keks.items() if kek_id != active)
