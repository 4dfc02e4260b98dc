from __future__ import annotations

import pytest

from clearance.detect.credential_values import generated_key, identifier_like, other_shape, prose_password


@pytest.mark.parametrize(
    "value",
    [
        "https://vault.corp.net/v1/app", "www.corp.net", "/etc/ssl/key.pem", "~/.ssh/id_ed25519", "./secrets.env",
        "C:\\keys\\prod.pfx", "jo@acme.io", "3fa85f64-5717-4562-b3fc-2c963f66afa6", "v1.2.3", "10.4.0-rc.1+b7",
        "2024-05-01T12:00:00Z", "2024-05-01", "JIRA-1234", "1700000000123", "4096", "12.99", "#58213",
        "sha256:9f86d081884c7d659a2f", "md5=0cc175b9c0f1b6a8", "****", "xxxx-xxxx-xxxx", "•••••",
    ],
)  # fmt: skip
def test_when_a_value_has_the_shape_of_something_else_then_it_is_not_a_credential(value: str) -> None:
    assert other_shape(value)


@pytest.mark.parametrize(
    "value", ["x7Kq2mPz9LwR4tYb8NcV6dHs", "Tr0ub4dor&3", "9f8e7d6c5b4a39281706f5e4d3c2b1a0", "Sommer2024!"]
)
def test_when_a_value_looks_like_a_credential_then_no_other_shape_claims_it(value: str) -> None:
    assert not other_shape(value)


@pytest.mark.parametrize(
    ("value", "identifier"),
    [("user-profile-cache-v2", True), ("order_2024_000123", True), ("menu.file.open", True),
     ("Content-Type", True), ("x7Kq2mPz9LwR4tYb8NcV6dHs", False), ("a8f5-9c2E-77bd", False), ("single", False)],
)  # fmt: skip
def test_when_a_value_is_words_and_numbers_joined_then_it_is_an_identifier(value: str, identifier: bool) -> None:
    assert identifier_like(value) is identifier


@pytest.mark.parametrize(
    ("value", "generated"),
    [("x7Kq2mPz9LwR4tYb8NcV6dHs", True), ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", True), ("aB3dE5fG7hJ9", True),
     ("abcdefghijkl", False), ("user-profile-cache-v2", False), ("Value", False), ("aaaaaaaaaaaaaaaa1", False),
     ("abc123abc123", False)],
)  # fmt: skip
def test_when_a_value_follows_a_key_word_then_only_a_generated_one_is_a_key(value: str, generated: bool) -> None:
    assert generated_key(value) is generated


@pytest.mark.parametrize(
    ("value", "password"),
    [("Tr0ub4dor&3", True), ("Sommer2024!", True), ("hunter22", True), ("SommerSonne", True),
     ("required", False), ("protected", False), ("Welcome", False), ("NONE", False), ("12345678", False),
     ("ab1", False)],
)  # fmt: skip
def test_when_a_value_follows_a_password_word_then_plain_words_and_numbers_are_not_passwords(
    value: str, password: bool
) -> None:
    assert (prose_password(value) > 0) is password
