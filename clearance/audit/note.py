"""Signed notes (C2SP signed-note) with Ed25519: keys, signing, and strict opening.

A note is text signed by one or more keys; the audit trail's checkpoints (``clearance.audit.checkpoint``) are
notes. The formats are the interoperable ones, so the Go tools (``golang.org/x/mod/sumdb/note``,
``transparency-dev``) read our notes and keys and we read theirs:

- a signed note is the text (ending in a newline), a blank line, and one or more lines
  ``— <key name> <base64(4-byte key id || signature)>`` (U+2014, the em dash);
- the key id is the first 4 bytes of SHA-256(name || 0x0A || 0x01 || 32-byte Ed25519 public key), big-endian;
- a verifier key is ``<name>+<8 hex digits of the key id>+<base64(0x01 || public key)>``;
- a signer key is ``PRIVATE+KEY+<name>+<8 hex digits>+<base64(0x01 || 32-byte seed)>``.

Signing goes through the ``NoteSigner`` protocol, so a KMS or HSM that holds the private key can replace the
file key (``Ed25519NoteSigner``): it needs only a name, the key id and a ``sign`` call (docs/audit-integrity.md).
Signer keys load from a file or an environment variable (``SecretRef``), never the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from clearance.exceptions import MalformedKey, MalformedNote, SignatureRejected
from clearance.secretref import SecretRef

ALG_ED25519 = 0x01
"""The signed-note signature type byte of Ed25519."""

MAX_SIGNATURES = 100
"""More signature lines than this make a note malformed (the spec asks to accept at least 16; Go stops at 100)."""

EM_DASH_PREFIX = "\u2014 "
_HEX_ID = re.compile(r"[0-9a-f]{8}")


def valid_key_name(name: str) -> bool:
    """A key name is non-empty and holds no Unicode space and no plus sign (they separate the key fields)."""
    return bool(name) and "+" not in name and not any(c.isspace() or ord(c) < 0x20 for c in name)


def key_id(name: str, public_key: bytes) -> int:
    """The key id of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def decode_base64(value: str) -> bytes | None:
    """Standard base64 with padding, refusing any other character; ``None`` where it is not."""
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


def encode_base64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


class NoteSigner(Protocol):
    """What signs a note: a key name, the key id, and a signature over the note text.

    ``Ed25519NoteSigner`` keeps the key in memory (read from a file or variable); a KMS or HSM implementation keeps
    the key where it is and forwards ``sign`` (Ed25519 over the exact text bytes, 64 bytes back).
    """

    @property
    def name(self) -> str: ...
    @property
    def key_id(self) -> int: ...
    def sign(self, message: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class NoteVerifier:
    """One trusted public key: it checks signatures that name it (key name and key id)."""

    name: str
    key_id: int
    public_key: bytes

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise MalformedKey("a verifier key name must be non-empty, without spaces or '+'")
        if len(self.public_key) != 32:
            raise MalformedKey(f"an Ed25519 public key is 32 bytes, not {len(self.public_key)}")
        if key_id(self.name, self.public_key) != self.key_id:
            raise MalformedKey(f"the key id {self.key_id:08x} does not match key {self.name}'s public key")

    @classmethod
    def from_public_key(cls, name: str, public_key: bytes) -> NoteVerifier:
        return cls(name, key_id(name, public_key), public_key)

    @classmethod
    def parse(cls, vkey: str) -> NoteVerifier:
        """A verifier from its key string ``<name>+<hex key id>+<base64(0x01 || public key)>``."""
        parts = vkey.strip().split("+", 2)  # base64 may hold "+": only the first two separate
        if len(parts) != 3 or not _HEX_ID.fullmatch(parts[1]):
            raise MalformedKey("a verifier key reads <name>+<8 hex digits>+<base64 key>; this one does not")
        name, hex_id, encoded = parts
        raw = decode_base64(encoded)
        if raw is None or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise MalformedKey(f"verifier key {name}: the key is not base64 of 0x01 and a 32-byte Ed25519 key")
        return cls(name, int(hex_id, 16), raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id:08x}+{encode_base64(bytes([ALG_ED25519]) + self.public_key)}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` is this key's Ed25519 signature of ``message``."""
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


class Ed25519NoteSigner:
    """A note signer holding its Ed25519 key in memory, read from a signer key string. Never printed whole."""

    __slots__ = ("_key", "_key_id", "_name")

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        if not valid_key_name(name):
            raise MalformedKey("a signer key name must be non-empty, without spaces or '+'")
        self._name = name
        self._key = private_key
        self._key_id = key_id(name, _raw_public(private_key.public_key()))

    @classmethod
    def generate(cls, name: str) -> Ed25519NoteSigner:
        """A new signer with a fresh random key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def parse(cls, skey: str) -> Ed25519NoteSigner:
        """A signer from ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``. Errors never echo the key."""
        parts = skey.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not _HEX_ID.fullmatch(parts[3]):
            raise MalformedKey("a signer key reads PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>; this one does not")
        name, hex_id, encoded = parts[2:]
        raw = decode_base64(encoded)
        if raw is None or len(raw) != 33 or raw[0] != ALG_ED25519:
            raise MalformedKey(f"signer key {name}: the key is not base64 of 0x01 and a 32-byte Ed25519 seed")
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.key_id != int(hex_id, 16):
            raise MalformedKey(f"signer key {name}: the key id {hex_id} is not the id of its public key")
        return signer

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)

    def verifier(self) -> NoteVerifier:
        """The public half, to give to whoever verifies."""
        return NoteVerifier(self._name, self._key_id, _raw_public(self._key.public_key()))

    def secret_key_string(self) -> str:
        """The signer key string, to store in a file or a secret manager (never in the database or a log)."""
        seed = self._key.private_bytes_raw()
        return f"PRIVATE+KEY+{self._name}+{self._key_id:08x}+{encode_base64(bytes([ALG_ED25519]) + seed)}"

    def __repr__(self) -> str:
        return f"Ed25519NoteSigner({self._name}+{self._key_id:08x})"


def generate_key(name: str) -> tuple[str, str]:
    """A new key pair for ``name``: (signer key string, verifier key string). For ``clearance audit keygen``."""
    signer = Ed25519NoteSigner.generate(name)
    return signer.secret_key_string(), str(signer.verifier())


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: the key name, the key id and the signature bytes (without the id)."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        return f"{EM_DASH_PREFIX}{self.name} {encode_base64(self.key_id.to_bytes(4, 'big') + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class SignedNote:
    """A note's text (ending in a newline) and its signatures, parsed but not yet verified."""

    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, message: str | bytes) -> SignedNote:
        """Split a signed note into text and signatures, refusing anything the spec does not allow."""
        note = _decode_note(message)
        split = note.rfind("\n\n")
        if split < 0:
            raise MalformedNote("the note has no blank line between its text and its signatures")
        text, block = note[: split + 1], note[split + 2 :]
        if not block.endswith("\n"):
            raise MalformedNote("the note's signature block is empty or does not end with a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise MalformedNote(f"the note has {len(lines)} signatures; at most {MAX_SIGNATURES} are read")
        return cls(text, tuple(_parse_signature(number, line) for number, line in enumerate(lines, 1)))

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _decode_note(message: str | bytes) -> str:
    if isinstance(message, bytes):
        try:
            message = message.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedNote(f"the note is not valid UTF-8 (byte {exc.start})") from None
    for position, char in enumerate(message):
        if ord(char) < 0x20 and char != "\n":
            raise MalformedNote(f"the note holds control character U+{ord(char):04X} at character {position}")
    return message


def _parse_signature(number: int, line: str) -> NoteSignature:
    if not line.startswith(EM_DASH_PREFIX):
        raise MalformedNote(f"signature line {number} does not start with an em dash (U+2014) and a space")
    name, _, encoded = line[len(EM_DASH_PREFIX) :].partition(" ")
    if not valid_key_name(name):
        raise MalformedNote(f"signature line {number} has no valid key name (non-empty, no spaces, no '+')")
    raw = decode_base64(encoded)
    if raw is None or len(raw) < 5:
        raise MalformedNote(f"signature line {number} ({name}) is not base64 of a 4-byte key id and a signature")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """The signed note of ``text`` (which must end in a newline), one signature line per signer."""
    if not text.endswith("\n"):
        raise MalformedNote("a note's text must end with a newline")
    _decode_note(text)
    if not signers:
        raise MalformedNote("a note needs at least one signer")
    message = text.encode()
    signatures = []
    for signer in signers:
        if not valid_key_name(signer.name):
            raise MalformedKey("a signer's key name must be non-empty, without spaces or '+'")
        signatures.append(NoteSignature(signer.name, signer.key_id, signer.sign(message)))
    return SignedNote(text, tuple(signatures)).encode()


@dataclass(frozen=True, slots=True)
class OpenedNote:
    """A note whose text a trusted key signed: the verified signatures and those from keys we do not know."""

    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def open_note(message: str | bytes, verifiers: Sequence[NoteVerifier]) -> OpenedNote:
    """Parse a signed note and check it against the trusted keys (C2SP signed-note, "Signatures").

    A signature from an unknown key (its name and id match no trusted key) is kept aside, unchecked. A signature
    from a trusted key that fails rejects the whole note, and so does a note that no trusted key signed.
    """
    note = SignedNote.parse(message)
    known = _index(verifiers)
    message_bytes = note.text.encode()
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    for signature in note.signatures:
        verifier = known.get((signature.name, signature.key_id))
        if verifier is None:
            unverified.append(signature)
        elif all((s.name, s.key_id) != (signature.name, signature.key_id) for s in verified):
            if not verifier.verify(message_bytes, signature.signature):
                raise SignatureRejected(
                    f"the signature of {signature.name}+{signature.key_id:08x} does not verify: "
                    "the note's text was changed or another key signed it"
                )
            verified.append(signature)
    if not verified:
        names = ", ".join(sorted({f"{s.name}+{s.key_id:08x}" for s in note.signatures}))
        raise SignatureRejected(f"no trusted key signed this note (it is signed by {names}): check the verifier key")
    return OpenedNote(note.text, tuple(verified), tuple(unverified))


def _index(verifiers: Sequence[NoteVerifier]) -> dict[tuple[str, int], NoteVerifier]:
    known: dict[tuple[str, int], NoteVerifier] = {}
    for verifier in verifiers:
        slot = (verifier.name, verifier.key_id)
        if slot in known and known[slot] != verifier:
            raise MalformedKey(f"two verifier keys share the name and id {verifier.name}+{verifier.key_id:08x}")
        known[slot] = verifier
    return known


def load_signer(ref: SecretRef) -> Ed25519NoteSigner:
    """The signer whose key string ``ref`` names. Errors name the variable or file, never the key."""
    try:
        return Ed25519NoteSigner.parse(ref.resolve())
    except MalformedKey as exc:
        raise MalformedKey(f"{_where(ref)}: {exc.message}") from None


def load_verifiers(keys: Sequence[str]) -> tuple[NoteVerifier, ...]:
    """Verifiers from key strings (one per trusted key, e.g. the lines of a file of verifier keys)."""
    return tuple(NoteVerifier.parse(key) for key in keys if key.strip())


def _where(ref: SecretRef) -> str:
    return f"environment variable {ref.env}" if ref.env is not None else f"file {ref.file}"
