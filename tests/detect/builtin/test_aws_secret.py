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
