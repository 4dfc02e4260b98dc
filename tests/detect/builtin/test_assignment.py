from __future__ import annotations

import pytest

from clearance.detect.builtin.assignment import AssignmentDetector, key_kind
from clearance.detect.scanner import Scanner
from tests.detect.helpers import found

DETECTOR = AssignmentDetector()


def _reported(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in found(DETECTOR, text) if f.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=Tr0ub4dor&3", [("PASSWORD", "Tr0ub4dor&3")]),
        ('DB_PASSWORD: "s3cr3t-Pa55"', [("PASSWORD", "s3cr3t-Pa55")]),
        ("export PGPASSWORD=Kq7!zz9a", [("PASSWORD", "Kq7!zz9a")]),
        ("my password is Wint3r-Is-Coming.", [("PASSWORD", "Wint3r-Is-Coming")]),
        ('"api_key": "a8f5f167f44f4964e6c998dee827110c"', [("API_KEY", "a8f5f167f44f4964e6c998dee827110c")]),
        ("client_secret => 'Zq8vN2mL0pR7sT4u'", [("API_KEY", "Zq8vN2mL0pR7sT4u")]),
        ("https://x.io/cb?access_token=Ab12Cd34Ef56Gh78&state=1", [("API_KEY", "Ab12Cd34Ef56Gh78")]),
        ("Authorization: Bearer abcDEF123456ghiJKL789", [("API_KEY", "abcDEF123456ghiJKL789")]),
    ],
)
def test_when_a_credential_is_assigned_then_its_value_is_found(text: str, expected: list[tuple[str, str]]) -> None:
    assert _reported(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "password=changeme-later",
        "api_key=None",
        "password: ${DB_PASSWORD}",
        'token = os.environ["TOKEN"]',
        "def login(password: str):",
        "login(password=password)",
        "api_key=API_KEY",
        "password: required",
        "passwd: ********",
        "token: {{ vault_token }}",
        'PASSWORD="<your password>"',
        "max_tokens=256",
        "password_length = 12",
        "the pass was hard",
        "api_key=short1",
        "secret: true",
    ],
)
def test_when_a_value_is_a_placeholder_reference_or_type_then_it_is_not_reported(text: str) -> None:
    assert _reported(text) == []


@pytest.mark.parametrize(
    ("key", "kind"),
    [("db_password", "PASSWORD"), ("pwd", "PASSWORD"), ("aws_secret_access_key", "API_KEY"), ("auth-token", "API_KEY"),
     ("max_tokens", None), ("password_hash", None), ("bypass", None)],
)  # fmt: skip
def test_when_a_key_is_named_then_its_kind_is_known(key: str, kind: str | None) -> None:
    assert key_kind(key) == kind


def test_when_a_jwt_is_the_bearer_token_then_the_jwt_wins_the_overlap() -> None:
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    assert [f.type for f in Scanner().scan(f"Authorization: Bearer {token}")] == ["JWT"]
