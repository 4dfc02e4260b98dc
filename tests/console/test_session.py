"""The console's session cookie: signed, ended by idle and absolute timeouts, and its CSRF token bound to it."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from clearance.console.session import SIGN_IN_TIMEOUT, SessionCodec, SignInState
from clearance.models import Identity

SECRET = "s" * 40
ALICE = Identity(subject="alice", email="alice@example.com", name="Alice", groups=("security", "eng"), issuer="i")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def codec(clock: Clock, secret: str = SECRET) -> SessionCodec:
    return SessionCodec(secret, idle_timeout=600, absolute_timeout=3600, clock=clock)


def test_when_a_session_is_written_then_it_reads_back_as_the_same_identity() -> None:
    clock = Clock()
    sessions = codec(clock)
    session = sessions.new(ALICE)
    assert sessions.load(sessions.dump(session)) == session


def test_when_the_cookie_is_read_then_it_holds_the_identity_and_times_and_no_token() -> None:
    sessions = codec(Clock())
    _, data = URLSafeSerializer("any key: read without checking").loads_unsafe(sessions.dump(sessions.new(ALICE)))
    assert set(data) == {"sid", "sub", "kind", "iss", "email", "name", "groups", "at", "seen"}


@pytest.mark.parametrize("text", [None, "", "garbage", "a.b.c"])
def test_when_the_cookie_is_missing_or_garbage_then_there_is_no_session(text: str | None) -> None:
    assert codec(Clock()).load(text) is None


def test_when_the_cookie_is_changed_then_it_is_refused() -> None:
    sessions = codec(Clock())
    text = sessions.dump(sessions.new(ALICE))
    payload, signature = text.rsplit(".", 1)
    assert sessions.load(payload + "." + signature[::-1]) is None
    assert sessions.load(payload[:-2] + "AA." + signature) is None


def test_when_signed_with_another_key_then_it_is_refused() -> None:
    clock = Clock()
    text = codec(clock, "t" * 40).dump(codec(clock, "t" * 40).new(ALICE))
    assert codec(clock).load(text) is None


def test_when_idle_longer_than_the_idle_timeout_then_the_session_has_ended() -> None:
    clock = Clock()
    sessions = codec(clock)
    text = sessions.dump(sessions.new(ALICE))
    clock.now += 599
    assert sessions.load(text) is not None
    clock.now += 1
    assert sessions.load(text) is None


def test_when_seen_again_then_the_idle_timeout_counts_from_then() -> None:
    clock = Clock()
    sessions = codec(clock)
    session = sessions.new(ALICE)
    clock.now += 500
    text = sessions.dump(sessions.seen(session))
    clock.now += 500
    assert sessions.load(text) is not None


def test_when_busy_past_the_absolute_timeout_then_the_session_has_ended_anyway() -> None:
    clock = Clock()
    sessions = codec(clock)
    session = sessions.new(ALICE)
    for _ in range(6):  # seen every 10 minutes: never idle
        clock.now += 590
        loaded = sessions.load(sessions.dump(session))
        assert loaded is not None
        session = sessions.seen(loaded)
    clock.now += 590
    assert clock.now >= session.signed_in_at + 3600
    assert sessions.load(sessions.dump(session)) is None


def test_when_checking_csrf_then_only_the_sessions_own_token_passes() -> None:
    sessions = codec(Clock())
    mine, theirs = sessions.new(ALICE), sessions.new(ALICE)
    token = sessions.csrf_token(mine)
    assert sessions.csrf_ok(mine, token)
    assert not sessions.csrf_ok(theirs, token)
    assert not sessions.csrf_ok(mine, None)
    assert not sessions.csrf_ok(mine, "")
    assert not sessions.csrf_ok(mine, token[:-1] + ("0" if token[-1] != "0" else "1"))


def test_when_the_secret_is_short_then_the_codec_refuses_it() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        codec(Clock(), "short")


def test_when_a_sign_in_is_kept_then_it_reads_back_until_it_takes_too_long() -> None:
    clock = Clock()
    sessions = codec(clock)
    state = SignInState("st", "no", "ve", "/console/x", clock.now)
    text = sessions.dump_sign_in(state)
    assert sessions.load_sign_in(text) == state
    clock.now += SIGN_IN_TIMEOUT
    assert sessions.load_sign_in(text) is None


def test_when_a_session_cookie_is_offered_as_a_sign_in_then_it_is_refused() -> None:
    sessions = codec(Clock())
    assert sessions.load_sign_in(sessions.dump(sessions.new(ALICE))) is None
    assert sessions.load(sessions.dump_sign_in(SignInState("a", "b", "c", "/console/", 1_000_000.0))) is None
