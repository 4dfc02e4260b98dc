"""The 401/503 errors: RFC 6750 challenges, and descriptions that cannot break a header."""

from __future__ import annotations

import pytest

from clearance.auth import errors


@pytest.mark.parametrize(
    "description",
    ['bad "quoted" text', "line\r\nSet-Cookie: evil=1", "back\\slash", "tab\tand\x00nul", "non-ascii é"],
)
def test_when_a_description_has_header_breaking_characters_then_the_challenge_stays_one_safe_line(
    description: str,
) -> None:
    error = errors.invalid_token(errors.MALFORMED_TOKEN, description)

    header = error.headers["WWW-Authenticate"]
    assert header.startswith('Bearer realm="clearance", error="invalid_token", error_description="')
    assert header.endswith('"')
    inner = header.removeprefix('Bearer realm="clearance", error="invalid_token", error_description="')[:-1]
    assert '"' not in inner and "\\" not in inner
    assert all(0x20 <= ord(c) <= 0x7E for c in header)
    assert error.message == description  # the JSON body keeps the text as it was


def test_when_no_credential_was_sent_then_the_challenge_has_no_error_code() -> None:
    error = errors.missing_credentials()

    assert error.http_status == 401
    assert error.code == errors.MISSING_CREDENTIALS
    assert error.headers == {"WWW-Authenticate": 'Bearer realm="clearance"'}


def test_when_the_provider_is_down_then_it_is_a_503_with_retry_after() -> None:
    error = errors.idp_unavailable("https://login.example.com")

    assert (error.http_status, error.code) == (503, errors.IDP_UNAVAILABLE)
    assert error.headers["Retry-After"].isdigit()
