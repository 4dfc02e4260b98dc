from __future__ import annotations

import pytest

from clearance.detect.builtin.keyword_credential import KeywordCredentialDetector
from clearance.detect.scanner import Scanner
from tests.detect.helpers import found

DETECTOR = KeywordCredentialDetector()
KEY = "x7Kq2mPz9LwR4tYb8NcV6dHs"
HEX = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"


def _reported(text: str) -> list[tuple[str, str]]:
    return [(f.type, text[f.start : f.end]) for f in found(DETECTOR, text) if f.score >= 0.5]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a key word, then filler words that end with a separator, or the value right after the word
        (f"here is the key for prod: {KEY}", ("API_KEY", KEY)),
        (f"key: {KEY}", ("API_KEY", KEY)),
        (f"Key - {KEY}", ("API_KEY", KEY)),
        (f"use token {KEY} for the deploy", ("API_KEY", KEY)),
        (f"the secret for staging is {KEY}.", ("API_KEY", KEY)),
        (f"here's the staging token → {HEX}", ("API_KEY", HEX)),
        (f"**API key**: `{KEY}`", ("API_KEY", KEY)),
        (f"creds for the vendor portal: {KEY}", ("API_KEY", KEY)),
        (f'{{"key": "{KEY}"}}', ("API_KEY", KEY)),
        (f"X-API-Key: {KEY}", ("API_KEY", KEY)),
        (f"ENCRYPTION_KEY={KEY}", ("API_KEY", KEY)),
        (f"algolia_admin_key: '{KEY}'", ("API_KEY", KEY)),
        (f"SECRET_KEY_BASE={KEY}", ("API_KEY", KEY)),
        (f"STRIPE_TOKEN_VALUE: {KEY}", ("API_KEY", KEY)),
        # password words: typed PASSWORD, judged as passwords
        ("password for the db → Tr0ub4dor&3", ("PASSWORD", "Tr0ub4dor&3")),
        ("the password of the admin account is Adm1n#2024", ("PASSWORD", "Adm1n#2024")),
        ("password for the server is Srv!8812x", ("PASSWORD", "Srv!8812x")),
        ("the password is now:\n  Kx9#mq2Lp", ("PASSWORD", "Kx9#mq2Lp")),
        ("Password:\nKx9#mq2Lp", ("PASSWORD", "Kx9#mq2Lp")),
        ("passphrase for my laptop → correct-Horse-9", ("PASSWORD", "correct-Horse-9")),
        ("pw Sunny-Day-42", ("PASSWORD", "Sunny-Day-42")),
        # other languages
        ("Passwort: Sommer2024!", ("PASSWORD", "Sommer2024!")),
        ("das Kennwort lautet Blau-Wal-77", ("PASSWORD", "Blau-Wal-77")),
        ("mot de passe : Tr0ub4dor&3", ("PASSWORD", "Tr0ub4dor&3")),
        ("mdp: Soleil#2023", ("PASSWORD", "Soleil#2023")),
        ("contraseña: Xk9!mq2Lp", ("PASSWORD", "Xk9!mq2Lp")),
        ("la clave es Mad2024$rid", ("PASSWORD", "Mad2024$rid")),
        ("a senha é Xk9!mq2Lp", ("PASSWORD", "Xk9!mq2Lp")),
        ("palavra-passe: Lisboa#77x", ("PASSWORD", "Lisboa#77x")),
        ("het wachtwoord is Fiets!2024", ("PASSWORD", "Fiets!2024")),
        (f"der API-Schlüssel lautet {KEY}", ("API_KEY", KEY)),
        (f"la clé API : {KEY}", ("API_KEY", KEY)),
        (f"jeton d'accès : {KEY}", ("API_KEY", KEY)),
        (f"a chave da API é {KEY}", ("API_KEY", KEY)),
        (f"la chiave per prod: {KEY}", ("API_KEY", KEY)),
        (f"de sleutel: {KEY}", ("API_KEY", KEY)),
    ],
)
def test_when_a_word_introduces_a_credential_then_the_value_is_found(text: str, expected: tuple[str, str]) -> None:
    assert _reported(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        # prose about keys, tokens and passwords
        "the key point is that we ship on Friday",
        "token budget of 4096 per request",
        "a token limit of 128000 applies",
        "password reset link sent to your inbox",
        "your password must be 12 characters long",
        "the password is incorrect",
        "password protected archive",
        "Password: required",
        "this is the key to success",
        "pass the salt please",
        "the secret sauce is love",
        # headers, tables and field names
        "Key: Value",
        "key: Content-Type",
        "key: user-profile-cache-v2",
        "key: menu.file.open",
        "key: order_2024_000123",
        # ids, tickets, fingerprints and hashes labelled as such
        "issue key: JIRA-1234",
        "ticket key PROJ-58213",
        "GPG key fingerprint: 4A3B 2C1D 9E8F 7A6B 5C4D 3E2F 1A0B 9C8D 7E6F 5A4B",
        "GPG key 0xABCDEF1234567890",
        "ssh key SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8",
        "key id: 3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "the token 3fa85f64-5717-4562-b3fc-2c963f66afa6 expired",
        "key: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "secret commit abc123def4567890abc123def4567890abc12345",
        "primary key: user_id_12345abc",
        "public key: 04a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f",
        "Idempotency-Key: 5f8c2a1e-7b3d-4e9f-a6c0-1d2e3f4a5b6c",
        "next page token: CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA",
        # placeholders, references, shapes that are not credentials
        "api key: <your-api-key>",
        "token: ${GITHUB_TOKEN}",
        "password: ********",
        "key: xxxx-xxxx-xxxx-xxxx",
        "secret: REDACTED",
        "password: changeme",
        "token: {{ vault_token }}",
        "key: /etc/ssl/private/server.key",
        "key: https://vault.corp.net/v1/secret/data/app",
        "token: 1700000000123",
        "token v1.2.3-beta.4",
        "key: 2024-05-01T12:00:00Z",
        "password 12345678",
        "the password for jo@acme.io is unchanged",
        # glued to the word, quoted prose, code around the word
        "measured as a pure pass-through proxy",
        "a key-value store keyed by tenant-42",
        "typed `PASSWORD` after a password word and `API_KEY` otherwise",
        'r"(?i)(?:pass|pwd|secret|token|api.?key)[a-z0-9_.-]*"',
        "ADVISORY_LOCK_KEY = 0x436C_6561_7250_7572",
        f"SECRET_KEY_ID={KEY}",
        "API_TOKEN_FILE=/run/secrets/api_token",
        "the password is read-only",
    ],
)
def test_when_the_words_are_prose_or_the_value_is_not_a_credential_then_nothing_is_found(text: str) -> None:
    assert _reported(text) == []


def test_when_an_assignment_names_the_credential_then_it_is_left_to_the_assignment_detector() -> None:
    assert _reported(f"password: Tr0ub4dor&3 and token = {KEY}") == []
    assert [f.detector for f in Scanner().scan(f"token = {KEY}")] == ["assignment"]


def test_when_the_word_is_part_of_another_word_then_it_is_not_read() -> None:
    assert _reported(f"monkey: {KEY} turkey {KEY} passenger {KEY}") == []


def test_when_a_long_text_holds_many_credential_words_then_each_is_judged_once() -> None:
    text = ("the key point is this; " * 2000) + f"key: {KEY}"
    assert _reported(text) == [("API_KEY", KEY)]
