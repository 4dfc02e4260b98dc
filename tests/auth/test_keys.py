"""The API key store: keys are stored only as hashes; create, find, list, revoke."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from clearance.auth.keys import ApiKeyStore, hash_key, is_key_id, new_key, parse_expiry


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ApiKeyStore]:
    store = ApiKeyStore(f"sqlite:///{tmp_path / 'keys.db'}")
    store.create_tables()
    yield store
    store.close()


def test_when_a_key_is_made_then_it_has_the_prefix_a_public_id_and_256_bits_of_secret() -> None:
    key_id, raw = new_key()

    match = re.fullmatch(r"clr_([0-9a-f]{12})_([A-Za-z0-9_-]{43})", raw)
    assert match is not None
    assert match.group(1) == key_id
    assert new_key()[1] != raw


def test_when_a_key_is_created_then_the_database_never_holds_the_raw_key_or_its_secret(
    store: ApiKeyStore, tmp_path: Path
) -> None:
    record, raw = store.create(owner="ci-bot", groups=["ci"], expires_at=None, label="nightly")
    secret = raw.split("_", 2)[2]  # clr_<hex id>_<secret>: the secret itself may hold "_"
    store.close()

    dump = (tmp_path / "keys.db").read_bytes()
    assert raw.encode() not in dump and secret.encode() not in dump
    rows = sqlite3.connect(tmp_path / "keys.db").execute("SELECT * FROM clearance_api_keys").fetchall()
    assert all(raw not in str(v) and secret not in str(v) for v in rows[0])
    assert hash_key(raw) in rows[0]
    assert record.key_id in rows[0]


def test_when_a_raw_key_is_presented_then_find_returns_its_record(store: ApiKeyStore) -> None:
    record, raw = store.create(owner="ci-bot", groups=["ci", "deploy"], expires_at=time.time() + 60)

    found = store.find(raw)

    assert found == record


@pytest.mark.parametrize(
    "mutate",
    [
        lambda raw: raw[:-1] + ("A" if raw[-1] != "A" else "B"),  # one character of the secret changed
        lambda raw: raw.replace(raw[4:16], "0" * 12),  # another key's id with this secret
        lambda raw: raw + "x",
        lambda raw: "clr_",
        lambda raw: raw.upper(),
    ],
)
def test_when_a_key_is_altered_then_it_is_not_found(store: ApiKeyStore, mutate: Callable[[str], str]) -> None:
    _, raw = store.create(owner="ci-bot", expires_at=None)

    assert store.find(mutate(raw)) is None


def test_when_a_key_is_revoked_then_list_shows_it_revoked_and_a_second_revoke_says_so(store: ApiKeyStore) -> None:
    record, _ = store.create(owner="ci-bot", expires_at=None)
    other, _ = store.create(owner="agent", expires_at=time.time() - 1)

    assert store.revoke(record.key_id) is True
    assert store.revoke(record.key_id) is False
    assert store.revoke("000000000000") is False
    statuses = {r.key_id: r.status(time.time()) for r in store.list()}
    assert statuses == {record.key_id: "revoked", other.key_id: "expired"}


def test_when_last_used_times_are_touched_then_they_are_written_in_one_batch(store: ApiKeyStore) -> None:
    a, _ = store.create(owner="a", expires_at=None)
    b, _ = store.create(owner="b", expires_at=None)

    store.touch({a.key_id: 100.0, b.key_id: 200.0})

    assert {r.key_id: r.last_used_at for r in store.list()} == {a.key_id: 100.0, b.key_id: 200.0}


def test_when_a_key_has_no_owner_then_it_is_refused(store: ApiKeyStore) -> None:
    with pytest.raises(ValueError, match="owner"):
        store.create(owner="", expires_at=None)


def test_when_a_key_is_got_by_its_id_then_its_record_comes_and_an_unknown_id_gives_none(store: ApiKeyStore) -> None:
    record, _ = store.create(owner="ci-bot", groups=["ci"], expires_at=None, label="nightly")

    assert store.get(record.key_id) == record
    assert store.get("0" * 12) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("never", None), ("12h", 1000.0 + 12 * 3600), ("2w", 1000.0 + 14 * 86400), ("1970-01-02", 86400.0)],
)
def test_when_an_expiry_is_read_then_each_form_gives_its_time(value: str, expected: float | None) -> None:
    assert parse_expiry(value, now=1000.0) == expected


@pytest.mark.parametrize("value", ["soon", "90", "1970-01-01T00:00:00Z", ""])
def test_when_an_expiry_is_not_one_of_the_forms_or_is_past_then_value_error(value: str) -> None:
    with pytest.raises(ValueError, match=r"expected 90d|in the past"):
        parse_expiry(value, now=1000.0)


@pytest.mark.parametrize(("text", "ok"), [("0123456789ab", True), ("0123456789AB", False), ("0123", False)])
def test_when_a_text_is_checked_as_a_key_id_then_only_12_lowercase_hex_digits_pass(text: str, ok: bool) -> None:
    assert is_key_id(text) is ok
