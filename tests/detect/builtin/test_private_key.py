from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from clearance.detect.builtin.private_key import PrivateKeyDetector
from tests.detect.helpers import values

DETECTOR = PrivateKeyDetector()
KEY = ec.generate_private_key(ec.SECP256R1())
PKCS8 = (
    KEY.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    .decode()
    .strip()
)
OPENSSL = (
    KEY.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    .decode()
    .strip()
)


@pytest.mark.parametrize("pem", [PKCS8, OPENSSL])
def test_when_a_whole_key_block_is_present_then_all_of_it_is_found(pem: str) -> None:
    assert values(DETECTOR, f"here:\n{pem}\nthanks") == [pem]


def test_when_newlines_are_escaped_in_json_then_the_block_is_still_found() -> None:
    escaped = PKCS8.replace("\n", "\\n")
    assert values(DETECTOR, f'{{"key": "{escaped}"}}') == [escaped]


def test_when_the_end_line_is_missing_then_the_base64_body_is_covered() -> None:
    truncated = "\n".join(PKCS8.splitlines()[:3])
    (found,) = values(DETECTOR, truncated)
    assert found == truncated


def test_when_only_a_public_key_or_certificate_is_present_then_nothing_is_found() -> None:
    public = (
        KEY.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    assert values(DETECTOR, public) == []
