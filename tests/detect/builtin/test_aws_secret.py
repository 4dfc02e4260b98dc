from __future__ import annotations

import pytest

from clearance.detect.scanner import Scanner

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzz3KEY1ab9"


@pytest.mark.parametrize(
    ("text", "found"),
    [
        (f"aws_secret_access_key = {SECRET}", True),
        (f"AWS secret: {SECRET}", True),
        (f"blob {SECRET} end", False),  # no context
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", False),  # AWS's documentation key
        ("aws commit 3f2a9c81b0e4d5f6a7b8c9d0e1f2a3b4c5d6e7f8", False),  # a git SHA: one letter case only
    ],
)
def test_when_scanned_then_secret_keys_need_context_and_randomness(text: str, found: bool) -> None:
    assert ("AWS_SECRET_KEY" in [f.type for f in Scanner().scan(text)]) is found


KEY_ID = "ASIAWILVDC6IWORTX67W"


@pytest.mark.parametrize(
    "text",
    [
        f"the keys for the staging bucket are {KEY_ID} / {SECRET}, I'll rotate them",
        f"{KEY_ID}:{SECRET}",
        f"{KEY_ID} : {SECRET}",
        f"access_key_id,secret_access_key\n{KEY_ID},{SECRET}\n",
        f"key {KEY_ID} and its secret {SECRET}",
        f"{SECRET} (id {KEY_ID})",
    ],
)
def test_when_an_access_key_id_stands_next_to_the_value_then_it_is_the_secret_key(text: str) -> None:
    assert ("AWS_SECRET_KEY", SECRET) in [(f.type, text[f.start : f.end]) for f in Scanner().scan(text)]


@pytest.mark.parametrize(
    "text",
    [
        f"api_secret = {SECRET}",
        f"SECRET_KEY_BASE={SECRET}",
        f"client_secret: {SECRET}",
    ],
)
def test_when_a_secret_has_no_aws_evidence_then_it_is_an_api_key_not_an_aws_secret(text: str) -> None:
    types = {f.type for f in Scanner().scan(text)}
    assert "AWS_SECRET_KEY" not in types
    assert types & {"API_KEY", "PASSWORD"}


def test_when_the_access_key_id_is_a_paragraph_away_then_it_is_no_evidence() -> None:
    text = f"{KEY_ID} was rotated last week." + " Nothing else to report on that front." * 3 + f" blob {SECRET} end"
    assert "AWS_SECRET_KEY" not in [f.type for f in Scanner().scan(text)]
