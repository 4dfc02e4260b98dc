"""Checkpoints: the C2SP tlog-checkpoint text is written and parsed strictly, a signed checkpoint opens only with
the log's key and for the log's origin, and the documented example verifies."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.audit.checkpoint import Checkpoint, CheckpointSigningConfig, open_checkpoint, sign_checkpoint
from clearance.audit.merkle import EMPTY_ROOT, leaf_hash, root_hash
from clearance.audit.note import Ed25519NoteSigner, load_verifiers
from clearance.exceptions import MalformedNote, SignatureRejected

ROOT = root_hash([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])


def signer(name: str, seed_byte: int) -> Ed25519NoteSigner:
    """A signer with a fixed key, so that tests never depend on random keys."""
    return Ed25519NoteSigner(name, Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32))


def test_when_a_checkpoint_is_written_then_it_is_the_tlog_checkpoint_text() -> None:
    checkpoint = Checkpoint("example.com/behind-the-sofa", 20852163, ROOT)
    text = checkpoint.text()
    assert text == f"example.com/behind-the-sofa\n20852163\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(text) == checkpoint


def test_when_the_c2sp_example_checkpoint_is_parsed_then_its_fields_are_read() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = Checkpoint.parse(text)
    assert (checkpoint.origin, checkpoint.size, checkpoint.extensions) == ("example.com/behind-the-sofa", 20852163, ())
    assert checkpoint.text() == text


def test_when_a_checkpoint_has_extension_lines_then_they_round_trip() -> None:
    checkpoint = Checkpoint("log.example", 0, EMPTY_ROOT, ("timestamp 1700000000", "x"))
    assert Checkpoint.parse(checkpoint.text()) == checkpoint


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("log.example\n3\n", "at least 3 lines"),
        ("log.example\n3\nROOT\n", "end with a newline"),
        ("log.example\n03\nROOT\n", "without leading zeroes"),
        ("log.example\n-3\nROOT\n", "tree size in decimal"),
        ("log.example\n3 \nROOT\n", "tree size in decimal"),
        ("log.example\n\u0663\nROOT\n", "tree size in decimal"),
        ("log.example\n99999999999999999999\nROOT\n", "within 0"),
        ("log.example\n3\nAAAA\n", "32-byte root hash"),
        ("log.example\n3\nROOT\n\n", "extension line must be non-empty"),
        ("\n3\nROOT\n", "origin must be non-empty"),
    ],
)
def test_when_a_checkpoint_is_malformed_then_parsing_says_which_line(text: str, why: str) -> None:
    encoded = base64.b64encode(ROOT).decode()
    body = text.replace("ROOT", encoded)
    if why == "end with a newline":
        body = body.rstrip("\n")
    with pytest.raises(MalformedNote, match=why):
        Checkpoint.parse(body)


def test_when_a_root_is_not_canonical_base64_then_it_is_refused() -> None:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    encoded = base64.b64encode(ROOT).decode()
    # 32 bytes fill 43 characters and 2 spare bits: setting a spare bit decodes to the same hash.
    spare_bit_set = encoded[:42] + alphabet[alphabet.index(encoded[42]) | 1] + "="
    assert spare_bit_set != encoded and base64.b64decode(spare_bit_set) == ROOT
    with pytest.raises(MalformedNote, match="32-byte root hash"):
        Checkpoint.parse(f"log.example\n3\n{spare_bit_set}\n")


def test_when_a_checkpoint_is_signed_then_it_opens_with_the_log_key() -> None:
    log = signer("log.example", 1)
    checkpoint = Checkpoint("log.example", 3, ROOT)
    note = sign_checkpoint(checkpoint, [log])
    assert note.startswith(checkpoint.text() + "\n\u2014 log.example ")
    assert open_checkpoint(note, [log.verifier()], origin="log.example") == checkpoint


def test_when_a_checkpoint_is_for_another_log_then_it_is_rejected() -> None:
    log = signer("log.example", 1)
    note = sign_checkpoint(Checkpoint("other.example", 3, ROOT), [log])
    with pytest.raises(SignatureRejected, match=re.escape("for log 'other.example', not 'log.example'")):
        open_checkpoint(note, [log.verifier()], origin="log.example")


def test_when_a_signed_checkpoint_s_size_is_changed_then_it_is_rejected() -> None:
    log = signer("log.example", 1)
    note = sign_checkpoint(Checkpoint("log.example", 3, ROOT), [log])
    with pytest.raises(SignatureRejected, match="does not verify"):
        open_checkpoint(note.replace("\n3\n", "\n2\n", 1), [log.verifier()])


def test_when_a_signed_checkpoint_was_signed_by_another_key_then_it_is_rejected() -> None:
    log, impostor = signer("log.example", 1), signer("log.example", 9)
    note = sign_checkpoint(Checkpoint("log.example", 3, ROOT), [impostor])
    with pytest.raises(SignatureRejected, match="no trusted key"):
        open_checkpoint(note, [log.verifier()])


def test_when_the_signer_key_is_in_an_environment_variable_then_it_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    log = signer("log.example", 3)
    monkeypatch.setenv("CLEARANCE_TEST_CHECKPOINT_KEY", log.secret_key_string() + "\n")
    loaded = CheckpointSigningConfig.model_validate({"key": {"env": "CLEARANCE_TEST_CHECKPOINT_KEY"}}).load()
    assert loaded.verifier() == log.verifier()


def test_when_the_documented_example_checkpoint_is_opened_with_the_documented_key_then_it_verifies() -> None:
    page = (Path(__file__).parents[2] / "docs" / "audit-integrity.md").read_text()
    blocks = re.findall(r"^```\n(.*?)^```$", page, flags=re.MULTILINE | re.DOTALL)
    note = next(b for b in blocks if "\n\n\u2014 " in b)
    vkey = next(b for b in blocks if re.fullmatch(r"[^\s+]+\+[0-9a-f]{8}\+\S+\n", b))
    checkpoint = open_checkpoint(note, load_verifiers([vkey]), origin="audit.example.com/clearance")
    assert checkpoint.size == 3
    assert checkpoint.root_hash == root_hash([leaf_hash(f"record {i}".encode()) for i in range(3)])
