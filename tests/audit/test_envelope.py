"""Envelope encryption of audit originals: a sealed record opens only with its own record id and a KEK of the
keyring, rotation keeps old records readable, every changed byte fails, and no error carries plaintext or keys."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import ValidationError

from clearance.audit.envelope import (
    NONCE_SIZE,
    TAG_SIZE,
    Envelope,
    Keyring,
    LocalKek,
    OriginalsEncryptionConfig,
    data_aad,
    generate_kek,
    load_kek,
    open_envelope,
    seal,
)
from clearance.exceptions import (
    ConfigError,
    DecryptionFailed,
    IntegrityError,
    MalformedEnvelope,
    MalformedKey,
    UnknownKeyId,
)
from clearance.secretref import SecretRef

PLAINTEXT = b'{"messages":[{"role":"user","content":"card 4111 1111 1111 1111"}]}'
KEY_2025 = bytes(range(32))
KEY_2026 = bytes(range(32, 64))


def keyring(active: str = "k2026") -> Keyring:
    keks = {"k2025": LocalKek("k2025", KEY_2025), "k2026": LocalKek("k2026", KEY_2026)}
    return Keyring(keks[active], tuple(k for i, k in keks.items() if i != active))


def assert_secret_free(error: BaseException) -> None:
    text = str(error)
    assert "4111" not in text and "content" not in text
    for key in (KEY_2025, KEY_2026):
        assert base64.b64encode(key).decode()[:10] not in text


def test_when_a_record_is_sealed_then_it_opens_with_its_record_id() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    assert envelope.kek_id == "k2026"
    assert PLAINTEXT not in envelope.to_bytes()
    assert open_envelope(envelope, "req-1", keyring()) == PLAINTEXT


def test_when_the_same_text_is_sealed_twice_then_keys_and_nonces_differ() -> None:
    first, second = seal(PLAINTEXT, "req-1", keyring()), seal(PLAINTEXT, "req-1", keyring())
    assert first.nonce != second.nonce
    assert first.wrapped_key != second.wrapped_key
    assert first.ciphertext != second.ciphertext


def test_when_the_plaintext_is_empty_then_it_round_trips() -> None:
    assert open_envelope(seal(b"", "req-1", keyring()), "req-1", keyring()) == b""


def test_when_a_record_is_sealed_then_its_data_key_is_bound_to_the_record_id() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    wrapped = envelope.wrapped_key
    data_key = AESGCM(KEY_2026).decrypt(
        wrapped[:NONCE_SIZE],
        wrapped[NONCE_SIZE:],
        b"".join(len(p).to_bytes(4, "big") + p for p in (b"clearance.audit.envelope.v1/key", b"k2026", b"req-1")),
    )
    assert AESGCM(data_key).decrypt(envelope.nonce, envelope.ciphertext, data_aad("req-1")) == PLAINTEXT


def test_when_opened_with_another_record_id_then_decryption_fails_without_plaintext() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    with pytest.raises(DecryptionFailed, match=r"record req-2: .*belongs to another record") as caught:
        open_envelope(envelope, "req-2", keyring())
    assert_secret_free(caught.value)


def test_when_the_kek_is_rotated_then_old_records_still_open_and_new_ones_use_the_new_key() -> None:
    old = seal(PLAINTEXT, "req-1", keyring(active="k2025"))
    rotated = keyring(active="k2026")
    new = seal(PLAINTEXT, "req-2", rotated)
    assert (old.kek_id, new.kek_id) == ("k2025", "k2026")
    assert open_envelope(old, "req-1", rotated) == PLAINTEXT
    assert open_envelope(new, "req-2", rotated) == PLAINTEXT


def test_when_the_kek_id_is_not_in_the_keyring_then_the_error_names_it() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring(active="k2025"))
    only_new = Keyring(LocalKek("k2026", KEY_2026))
    with pytest.raises(UnknownKeyId, match="'k2025', which the keyring does not hold") as caught:
        open_envelope(envelope, "req-1", only_new)
    assert_secret_free(caught.value)


def test_when_a_kek_with_the_right_id_holds_another_key_then_unwrapping_fails() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    impostor = Keyring(LocalKek("k2026", KEY_2025))
    with pytest.raises(DecryptionFailed, match="does not unwrap with key-encryption key k2026"):
        open_envelope(envelope, "req-1", impostor)


def test_when_the_kek_label_is_swapped_then_unwrapping_fails() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    relabelled = Envelope("k2025", envelope.wrapped_key, envelope.nonce, envelope.ciphertext)
    with pytest.raises(DecryptionFailed):
        open_envelope(relabelled, "req-1", keyring())


def test_when_any_byte_of_the_sealed_envelope_changes_then_it_does_not_open() -> None:
    data = seal(PLAINTEXT, "req-1", keyring()).to_bytes()
    for position in range(len(data)):
        for mask in (0x01, 0x80):
            changed = bytearray(data)
            changed[position] ^= mask
            with pytest.raises(IntegrityError) as caught:
                open_envelope(Envelope.from_bytes(bytes(changed)), "req-1", keyring())
            assert_secret_free(caught.value)


def test_when_the_envelope_is_serialised_then_bytes_and_json_round_trip() -> None:
    envelope = seal(PLAINTEXT, "req-1", keyring())
    assert Envelope.from_bytes(envelope.to_bytes()) == envelope
    assert Envelope.from_json(envelope.to_json()) == envelope
    fields = json.loads(envelope.to_json())
    assert (fields["v"], fields["kek"]) == (1, "k2026")
    assert base64.b64decode(fields["nonce"]) == envelope.nonce


def test_when_the_envelope_is_serialised_then_the_byte_layout_is_the_documented_one() -> None:
    envelope = Envelope("k1", b"W" * 60, b"N" * NONCE_SIZE, b"C" * (TAG_SIZE + 3))
    assert envelope.to_bytes() == b"\x01\x02k1\x00\x3c" + b"W" * 60 + b"N" * 12 + b"C" * 19


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "ends after 0 bytes"),
        (b"\x02\x02k1", "version 2 is not known"),
        (b"\x01\x05k1", "ends after 4 bytes"),
        (b"\x01\x02k1\x00\x3c" + b"W" * 10, "inside a field"),
        (b"\x01\x02k1\x00\x3c" + b"W" * 60 + b"N" * 12 + b"C" * 5, "at least its 16-byte tag"),
        (b"\x01\x02k\xff\x00\x01W" + b"N" * 12 + b"C" * 16, "not ASCII"),
        (b"\x01\x02k/\x00\x01W" + b"N" * 12 + b"C" * 16, "id must match"),
        (b"\x01\x02k1\x00\x00" + b"N" * 12 + b"C" * 16, "1 to 65535 bytes"),
    ],
)
def test_when_envelope_bytes_are_malformed_then_parsing_says_what_is_wrong(data: bytes, why: str) -> None:
    with pytest.raises(MalformedEnvelope, match=why):
        Envelope.from_bytes(data)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("not json", "not JSON"),
        ("[]", "exactly the fields"),
        ('{"v":1,"kek":"k1","wrapped_key":"","nonce":"","ciphertext":"","extra":1}', "exactly the fields"),
        ('{"v":"1","kek":"k1","wrapped_key":"","nonce":"","ciphertext":""}', "v is a number"),
        ('{"v":true,"kek":"k1","wrapped_key":"","nonce":"","ciphertext":""}', "v is a number"),
        ('{"v":1,"kek":"k1","wrapped_key":"!!","nonce":"","ciphertext":""}', "wrapped_key is not base64"),
        ('{"v":1,"kek":"k1","wrapped_key":5,"nonce":"","ciphertext":""}', "wrapped_key is a base64 string"),
        ('{"v":1,"kek":"k1","wrapped_key":"V1dX","nonce":"AAAA","ciphertext":""}', "nonce is 12 bytes, not 3"),
    ],
)
def test_when_envelope_json_is_malformed_then_parsing_says_what_is_wrong(text: str, why: str) -> None:
    with pytest.raises(MalformedEnvelope, match=why):
        Envelope.from_json(text)


@pytest.mark.parametrize(
    ("kek_id", "key", "why"),
    [("k 1", KEY_2025, "id must match"), ("", KEY_2025, "id must match"), ("k1", KEY_2025[:16], "16 bytes")],
)
def test_when_a_kek_is_malformed_then_it_is_refused(kek_id: str, key: bytes, why: str) -> None:
    with pytest.raises(MalformedKey, match=why):
        LocalKek(kek_id, key)


def test_when_a_keyring_repeats_an_id_then_it_is_refused() -> None:
    with pytest.raises(MalformedKey, match="repeated: k1"):
        Keyring(LocalKek("k1", KEY_2025), (LocalKek("k1", KEY_2026),))


def test_when_a_kek_is_shown_then_its_key_is_not() -> None:
    assert repr(LocalKek("k1", KEY_2025)) == "LocalKek(k1)"


def test_when_keks_are_configured_from_a_file_and_a_variable_then_the_keyring_opens_both_generations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "k2025.key").write_text(base64.b64encode(KEY_2025).decode() + "\n")
    monkeypatch.setenv("CLEARANCE_TEST_KEK_2026", base64.b64encode(KEY_2026).decode())
    config = OriginalsEncryptionConfig.model_validate(
        {
            "active": "k2026",
            "keys": [
                {"id": "k2025", "key": {"file": str(tmp_path / "k2025.key")}},
                {"id": "k2026", "key": {"env": "CLEARANCE_TEST_KEK_2026"}},
            ],
        }
    )
    loaded = config.load()
    assert loaded.active.id == "k2026"
    assert open_envelope(seal(PLAINTEXT, "req-1", keyring(active="k2025")), "req-1", loaded) == PLAINTEXT
    assert open_envelope(seal(PLAINTEXT, "req-2", loaded), "req-2", keyring()) == PLAINTEXT


@pytest.mark.parametrize(
    ("config", "why"),
    [
        ({"active": "k9", "keys": [{"id": "k1", "key": {"env": "X"}}]}, "must be the id of one of 'keys'"),
        ({"active": "k1", "keys": []}, "at least 1"),
        ({"active": "k1", "keys": [{"id": "k1", "key": {"env": "X"}}] * 2}, "appear once"),
        ({"active": "k1", "keys": [{"id": "k 1", "key": {"env": "X"}}]}, "should match pattern"),
        ({"active": "k1", "keys": [{"id": "k1", "key": {"env": "X"}, "value": "x"}]}, "Extra inputs"),
    ],
)
def test_when_the_encryption_config_is_invalid_then_validation_says_why(config: dict[str, object], why: str) -> None:
    with pytest.raises(ValidationError, match=why):
        OriginalsEncryptionConfig.model_validate(config)


@pytest.mark.parametrize(
    ("content", "why"),
    [("not base64!", "is not base64 of 32 bytes"), (base64.b64encode(b"short").decode(), "is 5 bytes, not 32")],
)
def test_when_a_kek_file_is_malformed_then_the_error_names_the_file_not_the_value(
    tmp_path: Path, content: str, why: str
) -> None:
    path = tmp_path / "kek.key"
    path.write_text(content)
    with pytest.raises(MalformedKey, match=why) as caught:
        load_kek("k1", SecretRef(file=path))
    assert str(path) in caught.value.message
    assert content not in caught.value.message


def test_when_a_kek_variable_is_missing_then_the_configuration_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLEARANCE_TEST_KEK_MISSING", raising=False)
    with pytest.raises(ConfigError, match="CLEARANCE_TEST_KEK_MISSING"):
        load_kek("k1", SecretRef(env="CLEARANCE_TEST_KEK_MISSING"))


def test_when_a_kek_is_generated_then_it_loads_as_a_256_bit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARANCE_TEST_KEK_NEW", generate_kek())
    kek = load_kek("k-new", SecretRef(env="CLEARANCE_TEST_KEK_NEW"))
    ring = Keyring(kek)
    assert open_envelope(seal(PLAINTEXT, "req-1", ring), "req-1", ring) == PLAINTEXT
