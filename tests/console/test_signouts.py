"""Sessions signed out before their end, kept in the gateway's database (SQLite and the real PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.console.signouts import SignOuts


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def signouts(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SignOuts]:
    url = f"sqlite:///{tmp_path / 'gw.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    store = SignOuts(url)
    store.create_tables()
    yield store
    store.close()


def test_when_a_session_signs_out_then_it_is_known_as_signed_out(signouts: SignOuts) -> None:
    assert not signouts.signed_out("sid-1")
    signouts.record("sid-1", ends_at=2_000.0, now=1_000.0)
    assert signouts.signed_out("sid-1")
    assert not signouts.signed_out("sid-2")


def test_when_signing_out_twice_then_nothing_breaks(signouts: SignOuts) -> None:
    signouts.record("sid-1", ends_at=2_000.0, now=1_000.0)
    signouts.record("sid-1", ends_at=2_000.0, now=1_001.0)
    assert signouts.signed_out("sid-1")


def test_when_a_sign_out_outlives_its_session_then_a_later_sign_out_removes_it(signouts: SignOuts) -> None:
    signouts.record("old", ends_at=1_500.0, now=1_000.0)
    signouts.record("new", ends_at=9_000.0, now=1_600.0)
    assert not signouts.signed_out("old")  # its session has ended anyway: the row is not needed
    assert signouts.signed_out("new")
