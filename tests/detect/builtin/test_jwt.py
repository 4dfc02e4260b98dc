from __future__ import annotations

import jwt as pyjwt
import pytest

from clearance.detect.builtin.jwt import JwtDetector, jwt_header
from tests.detect.helpers import values

DETECTOR = JwtDetector()
TOKEN = pyjwt.encode({"sub": "42", "name": "Ada"}, "a-signing-key-of-32-bytes-length!", algorithm="HS256")


@pytest.mark.parametrize("template", ["Authorization: Bearer {}", '{{"id_token": "{}"}}', "{}"])
def test_when_a_signed_jwt_is_present_then_it_is_found(template: str) -> None:
    assert values(DETECTOR, template.format(TOKEN)) == [TOKEN]


@pytest.mark.parametrize(
    "text",
    [
        "eyJub3RhbGciOjF9.eyJzdWIiOiIxIn0.c2ln",  # header has no "alg"
        "eyJhbGciOi.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",  # header is not JSON
        "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",  # glued
    ],
)
def test_when_a_string_is_not_a_jwt_then_it_is_not_found(text: str) -> None:
    assert values(DETECTOR, text) == []


def test_when_a_header_is_decoded_then_alg_is_read() -> None:
    assert jwt_header(TOKEN.split(".")[0]) == {"alg": "HS256", "typ": "JWT"}
    assert jwt_header("!!!") is None
