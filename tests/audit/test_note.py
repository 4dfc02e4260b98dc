"""Signed notes: the Go note package's published example (keys, text and signature) signs and verifies byte for
byte, malformed notes are refused precisely, a wrong key, changed text or unknown signer is rejected, and signer
keys load from a file or a variable without their value reaching an error."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearance.audit.note import (
    Ed25519NoteSigner,
    NoteVerifier,
    SignedNote,
    generate_key,
    key_id,
    load_signer,
    load_verifiers,
    open_note,
    sign_note,
)
from clearance.exceptions import ConfigError, MalformedKey, MalformedNote, SignatureRejected
from clearance.secretref import SecretRef

# golang.org/x/mod/sumdb/note, example_test.go (ExampleSign, ExampleOpen).
GO_SIGNER_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER_KEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIGNATURE_LINE = (
    "\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
GO_NOTE = GO_TEXT + "\n" + GO_SIGNATURE_LINE


def signer(name: str, seed_byte: int) -> Ed25519NoteSigner:
    """A signer with a fixed key, so that tests never depend on random keys."""
    return Ed25519NoteSigner(name, Ed25519PrivateKey.from_private_bytes(bytes([seed_byte]) * 32))


def test_when_go_s_example_signer_signs_go_s_text_then_the_note_is_go_s_byte_for_byte() -> None:
    go_signer = Ed25519NoteSigner.parse(GO_SIGNER_KEY)
    assert sign_note(GO_TEXT, [go_signer]) == GO_NOTE


def test_when_go_s_example_note_is_opened_with_go_s_verifier_key_then_it_verifies() -> None:
    opened = open_note(GO_NOTE.encode(), [NoteVerifier.parse(GO_VERIFIER_KEY)])
    assert opened.text == GO_TEXT
    assert [(s.name, s.key_id) for s in opened.verified] == [("PeterNeumann", 0xC74F20A3)]
    assert opened.unverified == ()


def test_when_keys_are_encoded_then_they_read_as_go_s_strings() -> None:
    go_signer = Ed25519NoteSigner.parse(GO_SIGNER_KEY)
    assert go_signer.secret_key_string() == GO_SIGNER_KEY
    assert str(go_signer.verifier()) == GO_VERIFIER_KEY
    assert str(NoteVerifier.parse(GO_VERIFIER_KEY)) == GO_VERIFIER_KEY
    public = base64.b64decode(GO_VERIFIER_KEY.split("+")[2])[1:]
    assert key_id("PeterNeumann", public) == 0xC74F20A3


def test_when_a_signer_is_shown_then_its_key_is_not() -> None:
    go_signer = Ed25519NoteSigner.parse(GO_SIGNER_KEY)
    assert GO_SIGNER_KEY.rsplit("+", 1)[1] not in repr(go_signer)
    assert repr(go_signer) == "Ed25519NoteSigner(PeterNeumann+c74f20a3)"


def test_when_a_key_pair_is_generated_then_the_signer_key_parses_back_to_the_same_pair() -> None:
    skey, vkey = generate_key("audit.example/log")
    parsed = Ed25519NoteSigner.parse(skey)
    assert parsed.name == "audit.example/log"
    assert str(parsed.verifier()) == vkey
    assert open_note(sign_note("hello\n", [parsed]), [NoteVerifier.parse(vkey)]).text == "hello\n"


def test_when_the_text_is_changed_then_the_signature_is_rejected() -> None:
    changed = GO_NOTE.replace("problem,", "problem;", 1)
    with pytest.raises(SignatureRejected, match="does not verify"):
        open_note(changed, [NoteVerifier.parse(GO_VERIFIER_KEY)])


def test_when_a_signature_byte_is_changed_then_the_signature_is_rejected() -> None:
    note = SignedNote.parse(GO_NOTE)
    signature = note.signatures[0]
    forged = type(signature)(
        signature.name, signature.key_id, bytes([signature.signature[0] ^ 1]) + signature.signature[1:]
    )
    with pytest.raises(SignatureRejected, match="PeterNeumann\\+c74f20a3 does not verify"):
        open_note(SignedNote(note.text, (forged,)).encode(), [NoteVerifier.parse(GO_VERIFIER_KEY)])


def test_when_only_an_unknown_key_signed_then_the_note_is_rejected_naming_the_signer() -> None:
    other = signer("PeterNeumann", 7).verifier()  # same name, another key (so another id)
    with pytest.raises(SignatureRejected, match=r"no trusted key signed this note .*PeterNeumann\+c74f20a3"):
        open_note(GO_NOTE, [other])
    with pytest.raises(SignatureRejected, match="no trusted key"):
        open_note(GO_NOTE, [])


def test_when_a_trusted_and_an_unknown_key_signed_then_the_unknown_one_is_set_aside() -> None:
    log, witness = signer("log.example", 1), signer("witness.example", 2)
    note = sign_note("text\n", [witness, log])
    opened = open_note(note, [log.verifier()])
    assert [s.name for s in opened.verified] == ["log.example"]
    assert [s.name for s in opened.unverified] == ["witness.example"]


def test_when_a_trusted_key_signed_twice_then_one_signature_counts() -> None:
    log = signer("log.example", 1)
    note = sign_note("text\n", [log, log])
    assert len(open_note(note, [log.verifier()]).verified) == 1


@pytest.mark.parametrize(
    ("message", "why"),
    [
        (b"\xff\xfe" + GO_NOTE.encode(), "not valid UTF-8"),
        (GO_TEXT.replace("\n", "\r\n", 1) + "\n" + GO_SIGNATURE_LINE, "control character U\\+000D"),
        (GO_TEXT + "\t\n" + GO_SIGNATURE_LINE, "control character U\\+0009"),
        (GO_TEXT + GO_SIGNATURE_LINE, "no blank line"),
        (GO_NOTE.rstrip("\n"), "does not end with a newline"),
        (GO_TEXT + "\n", "empty or does not end"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE.replace("\u2014", "-"), "line 1 does not start with an em dash"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE.replace("PeterNeumann", "Peter+Neumann"), "line 1 has no valid key"),
        (GO_TEXT + "\n\u2014  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNI=\n", "line 1 has no valid key"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE.replace("x08go", "x08g!"), "line 1 \\(PeterNeumann\\) is not base64"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE.replace("AM=\n", "AM\n"), "is not base64"),
        (GO_TEXT + "\n\u2014 PeterNeumann AQIDBA==\n", "is not base64 of a 4-byte key id and a signature"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE + "\u2014 x\n", "line 2 \\(x\\) is not base64"),
        (GO_TEXT + "\n" + GO_SIGNATURE_LINE * 101, "101 signatures"),
    ],
)
def test_when_a_note_is_malformed_then_parsing_says_what_is_wrong(message: str | bytes, why: str) -> None:
    with pytest.raises(MalformedNote, match=why):
        SignedNote.parse(message)
    with pytest.raises(MalformedNote):
        open_note(message, [NoteVerifier.parse(GO_VERIFIER_KEY)])


def test_when_a_note_text_has_empty_lines_then_the_last_blank_line_separates_the_signatures() -> None:
    log = signer("log.example", 1)
    text = "first\n\nsecond\n"
    assert open_note(sign_note(text, [log]), [log.verifier()]).text == text


@pytest.mark.parametrize(("text", "why"), [("no newline", "end with a newline"), ("a\x07b\n", "control character")])
def test_when_signing_an_invalid_text_then_it_is_refused(text: str, why: str) -> None:
    with pytest.raises(MalformedNote, match=why):
        sign_note(text, [signer("log.example", 1)])


def test_when_signing_without_signers_then_it_is_refused() -> None:
    with pytest.raises(MalformedNote, match="at least one signer"):
        sign_note("text\n", [])


@pytest.mark.parametrize(
    ("vkey", "why"),
    [
        ("PeterNeumann+c74f20a3", "reads <name>"),
        ("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "reads <name>"),
        ("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "does not match"),
        ("Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "name must be"),
        ("PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x01 and a 32-byte"),
        ("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10", "0x01 and a 32-byte"),
    ],
)
def test_when_a_verifier_key_is_malformed_then_it_is_refused(vkey: str, why: str) -> None:
    with pytest.raises(MalformedKey, match=why):
        NoteVerifier.parse(vkey)


@pytest.mark.parametrize(
    ("skey", "why"),
    [
        (GO_SIGNER_KEY.replace("PRIVATE+KEY+", ""), "reads PRIVATE\\+KEY"),
        (GO_SIGNER_KEY.replace("c74f20a3", "c74f20a4"), "is not the id of its public key"),
        (GO_SIGNER_KEY.replace("+AYEK", "+AoEK"), "0x01 and a 32-byte Ed25519 seed"),
        (GO_SIGNER_KEY[:-4], "0x01 and a 32-byte Ed25519 seed"),
    ],
)
def test_when_a_signer_key_is_malformed_then_it_is_refused_without_echoing_the_key(skey: str, why: str) -> None:
    with pytest.raises(MalformedKey, match=why) as caught:
        Ed25519NoteSigner.parse(skey)
    assert skey.rsplit("+", 1)[1][:12] not in caught.value.message


def test_when_two_verifier_keys_collide_on_name_and_id_then_they_are_refused() -> None:
    go = NoteVerifier.parse(GO_VERIFIER_KEY)
    twin = NoteVerifier.__new__(NoteVerifier)
    object.__setattr__(twin, "name", go.name)
    object.__setattr__(twin, "key_id", go.key_id)
    object.__setattr__(twin, "public_key", bytes(32))
    with pytest.raises(MalformedKey, match="share the name and id"):
        open_note(GO_NOTE, [go, twin])


def test_when_the_signer_key_is_in_a_file_then_it_loads(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    path.write_text(GO_SIGNER_KEY + "\n")
    assert str(load_signer(SecretRef(file=path)).verifier()) == GO_VERIFIER_KEY


def test_when_the_signer_key_is_malformed_then_the_error_names_its_source_not_its_value(tmp_path: Path) -> None:
    path = tmp_path / "checkpoint.key"
    path.write_text(GO_SIGNER_KEY.replace("c74f20a3", "00000000"))
    with pytest.raises(MalformedKey, match=re.escape("checkpoint.key: signer key PeterNeumann")) as caught:
        load_signer(SecretRef(file=path))
    assert "AYEKFALV" not in caught.value.message


def test_when_the_signer_key_is_missing_then_the_configuration_error_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CLEARANCE_TEST_CHECKPOINT_KEY", raising=False)
    with pytest.raises(ConfigError, match="CLEARANCE_TEST_CHECKPOINT_KEY"):
        load_signer(SecretRef(env="CLEARANCE_TEST_CHECKPOINT_KEY"))


def test_when_verifier_keys_are_listed_then_blank_lines_are_skipped() -> None:
    assert load_verifiers([GO_VERIFIER_KEY, "  ", ""]) == (NoteVerifier.parse(GO_VERIFIER_KEY),)
