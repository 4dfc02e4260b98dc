"""Sealing and opening a record's originals: one JSON document per record, each side cut at the limit, bound to the
record's request id, its hash what the row keeps."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import orjson
import pytest
from pydantic import ValidationError

from clearance.audit.envelope import Envelope, Keyring, open_envelope
from clearance.audit.originals import Originals, OriginalsConfig, open_originals, seal_originals
from clearance.exceptions import DecryptionFailed, UnknownKeyId
from tests.audit.test_envelope import KEY_2025, keyring

REQUEST = b'{"messages":[{"role":"user","content":"card 4111 1111 1111 1111"}]}'
ANSWER = b'{"choices":[{"message":{"content":"jane.roe@corp-mail.io"}}]}'


def test_when_originals_are_sealed_then_they_open_with_the_record_id_and_hold_no_plaintext() -> None:
    sealed = seal_originals(REQUEST, ANSWER, record_id="req-1", keyring=keyring(), limit=4096)

    assert b"4111" not in sealed.envelope and b"corp-mail" not in sealed.envelope
    assert sealed.sha256 == hashlib.sha256(sealed.envelope).hexdigest()
    assert sealed.kek_id == "k2026"
    opened = open_originals(sealed.envelope, record_id="req-1", keyring=keyring())
    assert (opened.request, opened.answer, opened.truncated) == (REQUEST.decode(), ANSWER.decode(), False)


def test_when_a_side_is_longer_than_the_limit_then_it_is_cut_and_flagged() -> None:
    sealed = seal_originals(REQUEST, None, record_id="req-1", keyring=keyring(), limit=10)

    opened = open_originals(sealed.envelope, record_id="req-1", keyring=keyring())
    assert (opened.request, opened.answer, opened.truncated) == (REQUEST[:10].decode(), None, True)


def test_when_opened_as_another_record_then_it_fails_without_naming_a_value() -> None:
    sealed = seal_originals(REQUEST, ANSWER, record_id="req-1", keyring=keyring(), limit=4096)

    with pytest.raises(DecryptionFailed) as failed:
        open_originals(sealed.envelope, record_id="req-2", keyring=keyring())
    assert "4111" not in str(failed.value)


def test_when_the_active_key_rotates_then_old_originals_still_open_and_new_ones_use_the_new_key() -> None:
    old = seal_originals(REQUEST, ANSWER, record_id="req-1", keyring=keyring("k2025"), limit=4096)
    new = seal_originals(REQUEST, ANSWER, record_id="req-2", keyring=keyring("k2026"), limit=4096)

    assert Envelope.from_bytes(old.envelope).kek_id == "k2025"
    assert Envelope.from_bytes(new.envelope).kek_id == "k2026"
    assert open_originals(old.envelope, record_id="req-1", keyring=keyring("k2026")).request == REQUEST.decode()


def test_when_the_old_key_is_dropped_from_the_keyring_then_its_records_no_longer_open() -> None:
    old = seal_originals(REQUEST, ANSWER, record_id="req-1", keyring=keyring("k2025"), limit=4096)
    only_new = Keyring(keyring("k2026").active)

    with pytest.raises(UnknownKeyId):
        open_originals(old.envelope, record_id="req-1", keyring=only_new)


def test_when_configured_then_full_is_the_default_mode_and_the_keys_are_read_at_once(tmp_path: Path) -> None:
    key_file = tmp_path / "kek"
    key_file.write_text(base64.b64encode(KEY_2025).decode())
    keys = {"active": "k1", "keys": [{"id": "k1", "key": {"file": str(key_file)}}]}
    config = OriginalsConfig.model_validate({"encryption": keys})

    originals = Originals.from_config(config)

    assert originals.modes == frozenset({"full"})
    assert originals.keyring.active.id == "k1"
    with pytest.raises(ValidationError):
        OriginalsConfig.model_validate({"encryption": keys, "modes": ["all"]})


def test_when_sealed_the_document_is_json_with_both_sides() -> None:
    sealed = seal_originals(b"{}", b"[]", record_id="r", keyring=keyring(), limit=100)
    envelope = Envelope.from_bytes(sealed.envelope)
    assert orjson.loads(open_envelope(envelope, "r", keyring())) == {
        "request": "{}",
        "answer": "[]",
        "truncated": False,
    }
