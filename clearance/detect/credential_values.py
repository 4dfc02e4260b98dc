"""Is the value a credential word introduces a credential, or something else that follows such words?

Prose says "key", "token" and "password" about many things that are not secrets: "the key point is", "token
budget of 4096", "password reset link", a key id, a fingerprint, a commit hash, a ticket key (``JIRA-1234``), a
version, a path, a URL, a UUID used as an id, an order number. ``placeholders.py`` tells real values from
placeholders and references; this module tells a value that *looks* like a credential from the other shapes that
follow credential words. Pure functions on one short value.
"""

from __future__ import annotations

import re

from clearance.detect.checksums import char_classes
from clearance.detect.placeholders import looks_random, password_score

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII)
_VERSION = re.compile(r"[vV]?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.\-+]*)?", re.ASCII)
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?", re.ASCII)
_TICKET = re.compile(r"[A-Z][A-Z0-9]{1,14}-\d{1,8}", re.ASCII)
_HASH_NAMED = re.compile(r"(?i)(?:sha(?:1|224|256|384|512)?|md5|blake2[bs]?|crc32)[:=\-]", re.ASCII)
_EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}", re.ASCII)
_NUMBER = re.compile(r"[#+\-]?[\d.,\-/: ]+|0[xX][0-9a-fA-F_]{1,19}", re.ASCII)
"""A number: an id, an amount, a count; or a hexadecimal constant of at most 64 bits (a longer one may be a key)."""
_SEGMENTS = re.compile(r"[\-_./:]", re.ASCII)
_MASK_CHARS = "*xX#•.-_ "


def other_shape(value: str) -> bool:
    """True when ``value`` has the shape of something that is not a credential: a URL, a path, an e-mail address,
    a UUID, a version, a timestamp, a ticket key, a number (an id, an amount), a hash named as one
    (``sha256:…``), or a mask (``xxxx-xxxx``, ``****``)."""
    if not value.strip(_MASK_CHARS):
        return True
    if "://" in value or value.startswith(("www.", "/", "~/", "./", "../", "\\\\")) or "\\" in value:
        return True
    if len(value) > 2 and value[1] == ":" and value[0].isalpha() and value[2] in "\\/":
        return True  # a Windows path
    return bool(
        _UUID.fullmatch(value)
        or _VERSION.fullmatch(value)
        or _TIMESTAMP.fullmatch(value)
        or _TICKET.fullmatch(value)
        or _NUMBER.fullmatch(value)
        or _HASH_NAMED.match(value)
        or ("@" in value and _EMAIL.fullmatch(value))
    )


def identifier_like(value: str) -> bool:
    """True for a name made of words and numbers joined by ``- _ . / :`` (``user-profile-cache-v2``,
    ``order_2024_000123``, ``menu.file.open``): every part is letters of one case (or capitalised) or digits."""
    parts = [p for p in _SEGMENTS.split(value) if p]
    if len(parts) < 2:
        return False
    for part in parts:
        body = part[1:] if part[:1] in "vV" and part[1:].isdigit() else part
        if body.isdigit() or (body.isalpha() and (body.islower() or body.isupper() or body.istitle())):
            continue
        return False
    return True


def generated_key(value: str) -> bool:
    """An API key or token value: long and varied (``looks_random``), not a name of words and numbers. Short
    values (12-15 characters) must mix upper case, lower case and digits."""
    if len(value) > 512 or identifier_like(value):
        return False
    if len(value) >= 16:
        return looks_random(value, min_length=16)
    return char_classes(value) >= 3 and looks_random(value) and not value.isupper() and not value.islower()


def prose_password(value: str) -> float:
    """The score of ``value`` as a password introduced in prose (after "password", "Passwort", "senha"…), 0 when
    it is not one: 6 to 128 characters without white space, not a plain word ("required", "protected", "Welcome"),
    so it holds a digit or a symbol, or a capital after its first letter; not words joined by punctuation without a
    digit (``API_KEY``, ``read-only``); and not digits alone (an id, a PIN, a count)."""
    if not 6 <= len(value) <= 128 or value.isdigit() or any(c.isspace() for c in value):
        return 0.0
    if identifier_like(value) and not any(c.isdigit() for c in value):
        return 0.0  # words joined by - _ . (``API_KEY``, ``read-only``, ``menu.file``): a name, not a password
    if value.isalpha() and not any(c.isupper() for c in value[1:]):
        return 0.0
    if value.isalpha() and value.isupper():
        return 0.0  # an acronym or a shouted word
    score = password_score(value)
    return score if score >= 0.5 else 0.0
