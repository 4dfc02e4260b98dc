"""Is a credential value real, or a placeholder, a reference or a type name?

Documentation, examples and code are full of ``password=changeme-later``, ``api_key=None``,
``password: ${DB_PASSWORD}``, ``token = os.environ["TOKEN"]`` and ``def login(password: str)``: credential
*syntax* without a credential. These functions tell them apart from values someone could log in with.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import ahocorasick

from clearance.detect.checksums import char_classes, shannon_entropy

NULL_WORDS = frozenset(
    {
        "none", "null", "nil", "undefined", "true", "false", "yes", "no", "on", "off", "empty", "n/a", "na",
        "str", "string", "int", "bool", "bytes", "any", "optional", "secretstr", "secretbytes", "object",
        "required", "omitted", "hidden", "masked", "redacted", "removed", "unset", "default",
    }
)  # fmt: skip

PLACEHOLDER_WORDS = (
    "changeme", "change_me", "change-me", "changeit", "placeholder", "example", "sample", "dummy", "your",
    "xxx", "***", "...", "redacted", "replace", "insert", "enter", "fixme", "todo", "tbd", "secret_here",
    "here", "mypassword", "my_password", "password123", "not-a-real", "notreal", "fake",
)  # fmt: skip


@functools.cache
def _placeholder_words() -> Any:
    """An Aho-Corasick automaton of ``PLACEHOLDER_WORDS``: one pass over a value finds any of them (a regular
    expression alternation tries every word at every position). Built once; only read after that."""
    automaton = ahocorasick.Automaton()
    for word in PLACEHOLDER_WORDS:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


TRIVIAL_VALUES = frozenset({"password", "passwd", "secret", "pass", "test", "token", "key", "apikey", "api_key"})

_REFERENCE = re.compile(
    r"""^(?:
        [$%@&]                              # $VAR, ${VAR}, %(name)s, @var
      | \{\{ | \{% | <[A-Za-z_ -]+>$ | \[\[  # templates, <your-key>
      | (?:os\.environ|os\.getenv|process\.env|env\.|settings\.|config\.|self\.|this\.|cfg\.|secrets\.|vault:)
    )""",
    re.VERBOSE | re.ASCII,
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*", re.ASCII)
_CREDENTIAL_WORDS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
_ASCII_DIGIT = re.compile(r"[0-9]")
_MASK = re.compile(r"^(?:[*x#•.]|\\u2022)+$", re.IGNORECASE)


def is_placeholder(value: str, *, quoted: bool = False) -> bool:
    """True for values that are evidently not a real credential."""
    lowered = value.lower()
    if not value or lowered in NULL_WORDS or lowered in TRIVIAL_VALUES or _MASK.match(value):
        return True
    if _REFERENCE.match(value) or "(" in value or next(_placeholder_words().iter(lowered), None) is not None:
        return True
    # An unquoted identifier that names a credential is a variable (login(password=password), api_key=API_KEY).
    return bool(not quoted and _IDENTIFIER.fullmatch(value) and any(w in lowered for w in _CREDENTIAL_WORDS))


def looks_random(value: str, *, min_length: int = 12, min_entropy: float = 3.0) -> bool:
    """True when ``value`` is long and varied enough to be a generated key or token."""
    if len(value) < min_length:
        return False
    long_hex = len(value) >= 24 and not value.lower().strip("0123456789abcdef")
    if not long_hex and not (char_classes(value) >= 2 and _has_digit(value)):
        return False
    return shannon_entropy(value) >= min_entropy  # the costly test last


def _has_digit(value: str) -> bool:
    """Any character of ``value`` is a digit (``str.isdigit``: of any script)."""
    return _ASCII_DIGIT.search(value) is not None or (not value.isascii() and any(ch.isdigit() for ch in value))


def password_score(value: str) -> float:
    """A base score for a password value that is not a placeholder: varied values score higher.

    A single lower-case word (``letmein``, ``required``) is as likely prose as a password and scores under the
    default threshold; mixed classes or high entropy score over it.
    """
    if len(value) < 4:
        return 0.0
    classes = char_classes(value)
    if classes >= 3:
        return 0.85
    entropy = shannon_entropy(value)
    if classes >= 2 and entropy >= 2.5:
        return 0.85
    if entropy >= 3.0 and len(value) >= 8:
        return 0.6
    return 0.4
