"""Encoders for the decoded-view tests, an independent decoder (stdlib only) to look for traces after masking, and
value generators. Kept apart from ``clearance.detect.decoded`` on purpose: a test that used the code under test to
judge it would prove nothing."""

from __future__ import annotations

import base64
import html
import random
import re
from collections.abc import Callable, Sequence
from urllib.parse import unquote_plus

from clearance.models import Finding

_EN = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_FR = ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf")


def _spelled(words: Sequence[str], separator: str) -> Callable[[str], str]:
    return lambda value: separator.join(words[int(c)] for c in value if c.isdigit())


def _mixed(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    return " ".join(_EN[int(c)] if i % 3 else c for i, c in enumerate(digits))


def _data_url(value: str) -> str:
    payload = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00tEXtComment\x00" + value.encode() + b"\x00\x00"
    return "data:image/png;base64," + base64.b64encode(payload).decode()


ENCODERS: dict[str, Callable[[str], str]] = {
    "html_decimal": lambda v: "".join(f"&#{ord(c)};" for c in v),
    "html_hex": lambda v: "".join(f"&#x{ord(c):X};" for c in v),
    "percent": lambda v: "".join(f"%{b:02X}" for b in v.encode()),
    "percent_lower_plus": lambda v: "".join("+" if c == " " else f"%{ord(c):02x}" for c in v),
    "escape_u": lambda v: "".join(f"\\u{ord(c):04x}" for c in v),
    "escape_x": lambda v: "".join(f"\\x{b:02x}" for b in v.encode()),
    "base64": lambda v: base64.b64encode(v.encode()).decode(),
    "base64url_unpadded": lambda v: base64.urlsafe_b64encode(v.encode()).decode().rstrip("="),
    "data_url_text": lambda v: "data:text/plain;base64," + base64.b64encode(v.encode()).decode(),
    "data_url": _data_url,
    "words_spaced": _spelled(_EN, " "),
    "words_hyphenated": _spelled(_EN, "-"),
    "words_french": _spelled(_FR, " "),
    "words_mixed_digits": _mixed,
}
NUMERIC_ENCODERS = frozenset({"words_spaced", "words_hyphenated", "words_french", "words_mixed_digits"})

# kind -> (type, a context label, value)
VALUES: dict[str, tuple[str, str, str]] = {
    "card": ("CREDIT_CARD", "card", "4111111111111111"),
    "ssn": ("US_SSN", "ssn", "123-45-6789"),
    "iban": ("IBAN_CODE", "iban", "DE89370400440532013000"),
    "aws": ("AWS_ACCESS_KEY", "key", "AKIA2E7XQ5PLMN4RT6VW"),
    "github": ("GITHUB_TOKEN", "token", "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"),
    "email": ("EMAIL_ADDRESS", "mail", "jo.smith@acme.io"),
}

_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|U([0-9A-Fa-f]{8}))")
_BASE64 = re.compile(r"[A-Za-z0-9+/_\-]{8,}={0,2}")
_WORD_DIGITS = {w: str(i) for words in (_EN, _FR) for i, w in enumerate(words)}
_NUMBER_WORDS = re.compile(r"\b(" + "|".join(sorted(_WORD_DIGITS, key=len, reverse=True)) + r")\b[\s,-]*")


def _b64(match: re.Match[str]) -> str:
    run = match.group().rstrip("=").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(run + "=" * (-len(run) % 4))
    except ValueError:
        return match.group()
    text = raw.decode("utf-8", "ignore")
    printable = "".join(c for c in text if c.isprintable())
    return printable if len(printable) >= len(raw) // 2 else match.group()


def decode_everything(text: str, rounds: int = 6) -> str:
    """``text`` with every layer of every encoding above undone (several passes), spelled digits as digits and
    separators between digits removed: the place to look for a raw value."""
    for _ in range(rounds):
        before = text
        text = html.unescape(text)
        text = unquote_plus(text)
        text = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2) or m.group(3), 16)), text)
        text = _BASE64.sub(_b64, text)
        if text == before:
            break
    text = _NUMBER_WORDS.sub(lambda m: _WORD_DIGITS[m.group(1).lower()], text)
    return re.sub(r"(?<=\d)[\s\-]+(?=\d)", "", text)


def mask(text: str, findings: Sequence[Finding]) -> str:
    """Replace each finding's span, the way the masker does."""
    for f in sorted(findings, key=lambda f: f.start, reverse=True):
        text = f"{text[: f.start]}<MASKED>{text[f.end :]}"
    return text


def luhn_card(rng: random.Random) -> str:
    prefix = rng.choice(("4", "51", "52", "37", "6011"))
    length = 15 if prefix == "37" else 16
    digits = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return digits + str((10 - total % 10) % 10)


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    return f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
