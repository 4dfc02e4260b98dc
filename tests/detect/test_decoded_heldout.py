"""A held-out set for decoded views: values, templates and encodings (and combinations) that the decoders were not
tuned on, generated from a fixed seed. The bar is recall over the whole set, not every case: it measures how well
the mechanism generalises. Do not tune the decoders on failures here; add the class to test_decoded.py instead."""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from urllib.parse import quote

from clearance.detect.scanner import Scanner
from tests.detect.encodings import decode_everything, luhn_card, mask, ssn

SEED = 20261204
SIZE = 400
RECALL_BAR = 0.9

_DE = ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun")
_ES = ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve")


def _iban(rng: random.Random) -> str:
    country, length = rng.choice((("GB", 22), ("FR", 27), ("NL", 18), ("ES", 24), ("IT", 27)))
    bank = "".join(rng.choice("0123456789") for _ in range(length - 4))
    if country in ("GB", "NL"):
        bank = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) + bank[4:]
    if country == "IT":
        bank = rng.choice("ABCDEFGHIJ") + bank[1:]
    numeric = "".join(str(int(c, 36)) for c in bank + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bank}"


def _value(rng: random.Random) -> tuple[str, str]:
    kind = rng.randrange(6)
    alnum = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    if kind == 0:
        return "CREDIT_CARD", luhn_card(rng)
    if kind == 1:
        return "US_SSN", ssn(rng)
    if kind == 2:
        return "IBAN_CODE", _iban(rng)
    if kind == 3:
        return "GITLAB_TOKEN", "glpat-" + "".join(rng.choice(alnum) for _ in range(20))
    if kind == 4:
        return "SLACK_TOKEN", f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**11, 10**12)}-" + "".join(
            rng.choice(alnum) for _ in range(24)
        )
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(4, 9)))
    return "EMAIL_ADDRESS", f"{user}.{rng.choice(('lee', 'ng', 'roy'))}@{rng.choice(('fastmail', 'proton'))}.me"


def _spell(words: tuple[str, ...]) -> Callable[[str], str]:
    return lambda v: " ".join(words[int(c)] if c.isdigit() else c for c in v if c.isalnum())


_ENCODINGS: dict[str, Callable[[str], str]] = {
    "json_unicode_escape_upper": lambda v: "".join(f"\\u{ord(c):04X}" for c in v),
    "html_mixed_entities": lambda v: "".join(f"&#{ord(c)};" if i % 2 else c for i, c in enumerate(v)),
    "percent_every_other": lambda v: "".join(f"%{ord(c):02x}" if i % 2 else c for i, c in enumerate(v)),
    "percent_twice": lambda v: "".join(f"%25{ord(c):02X}" for c in v),
    "query_string": lambda v: "https://shop.example.net/checkout?ref=" + quote(f"value {v}") + "&x=1",
    "base64_of_sentence": lambda v: base64.b64encode(f"here it is: {v}, keep it safe".encode()).decode(),
    "base64_of_json": lambda v: base64.urlsafe_b64encode(f'{{"value": "{v}"}}'.encode()).decode(),
    "base64_of_percent": lambda v: base64.b64encode(quote(v, safe="").encode()).decode(),
    "entities_of_base64": lambda v: "".join(f"&#x{ord(c):x};" for c in base64.b64encode(v.encode()).decode()),
    "escape_of_percent": lambda v: "".join(f"\\x{ord(c):02x}" for c in quote(v, safe="")),
    "data_url_octet_stream": lambda v: (
        "data:application/octet-stream;base64," + base64.b64encode(b"\x00\x01" + v.encode() + b"\xff").decode()
    ),
    "data_url_svg_text": lambda v: (
        "data:image/svg+xml;base64," + base64.b64encode(f"<svg><text>{v}</text></svg>".encode()).decode()
    ),
    "german_words": _spell(_DE),
    "spanish_words": _spell(_ES),
}
_NUMERIC_ONLY = frozenset({"german_words", "spanish_words"})
_TEMPLATES = (
    "Hi, the customer's details: {} - can you check?",
    "<td>{}</td>",
    '{{"note": "{}"}}',
    "log: user submitted field={} status=ok",
    "Please summarise this: {}\nThanks!",
)


def heldout_cases() -> list[tuple[str, str, str, str]]:
    """(encoding, type, value, text) for the whole held-out set."""
    rng = random.Random(SEED)
    cases: list[tuple[str, str, str, str]] = []
    while len(cases) < SIZE:
        type_, value = _value(rng)
        encoding = rng.choice(sorted(_ENCODINGS))
        if encoding in _NUMERIC_ONLY and type_ not in ("CREDIT_CARD", "US_SSN"):
            continue
        text = rng.choice(_TEMPLATES).format(_ENCODINGS[encoding](value))
        cases.append((encoding, type_, value, text))
    return cases


def heldout_results(scanner: Scanner) -> list[tuple[str, bool, bool]]:
    """(encoding, found the type, no decodable trace after masking) for each case."""
    results = []
    for encoding, type_, value, text in heldout_cases():
        findings = scanner.scan(text)
        found = type_ in {f.type for f in findings}
        clean = value.lower() not in decode_everything(mask(text, findings)).lower()
        results.append((encoding, found, clean))
    return results


def test_when_values_are_encoded_in_ways_not_tuned_on_then_recall_stays_high() -> None:
    results = heldout_results(Scanner())
    recall = sum(found for _, found, _ in results) / len(results)
    clean = sum(c for _, _, c in results) / len(results)
    assert recall >= RECALL_BAR, recall
    assert clean >= RECALL_BAR, clean
