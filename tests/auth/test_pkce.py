"""PKCE (RFC 7636): the challenge is the S256 of the verifier, and each pair is new."""

from __future__ import annotations

import base64
import hashlib

from clearance.auth.pkce import challenge_of, pkce_pair


def test_when_making_a_pair_then_the_challenge_is_the_s256_of_the_verifier() -> None:
    verifier, challenge = pkce_pair()
    assert 43 <= len(verifier) <= 128
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == digest == challenge_of(verifier)


def test_each_pair_is_new() -> None:
    assert len({pkce_pair()[0] for _ in range(20)}) == 20
