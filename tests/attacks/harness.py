"""The attack suite's values, its two failure kinds, and the leak check every attack ends with.

A *leak* is a raw value, or any form of it a reader could turn back into the value, found where it must not be: in
what the upstream received (bodies, keys, headers, paths), in what the caller received (status line aside), in the
captured logs, or in the audit database. The check normalises the place it searches the way an attacker would
read it: Unicode compatibility forms folded (NFKC), everything that is not a letter or digit removed, HTML
entities, percent-escapes, ``\\uXXXX`` escapes, base64 runs and spelled-out digits decoded. So
``4111/1111/1111/1111``, full-width digits and ``&#52;111…`` all count as the card.

Failures raise one of three types, which ``scripts/attack-report`` counts per class:

- ``LeakError``: a raw value (or a decodable form of it) was found where it must not be;
- ``ServerError``: the gateway answered 5xx to bad input (502/504 are allowed where an upstream is at fault);
- ``ContractError``: any other broken promise of the issue (a 200 where a 400 is due, a missing error event).

Messages name the value only masked (``4111…1111``) and say where it was found and in which form.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
import unicodedata
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


class LeakError(AssertionError):
    """A raw value, or a form of it, reached a place it must never reach."""


class ServerError(AssertionError):
    """The gateway answered a 5xx where the issue requires a 4xx (or a 502/504 for an upstream fault)."""


class ContractError(AssertionError):
    """Another promise of the issue was broken (wrong status or error code, a stream without its error event)."""


@dataclass(frozen=True)
class Secret:
    """One test value: ``raw`` is how a careless user would type it; ``kind`` says what it is."""

    raw: str
    kind: str

    @property
    def compact(self) -> str:
        return compact(self.raw)

    @property
    def shown(self) -> str:
        """The value as failure messages show it: first and last four characters only."""
        c = self.compact
        return f"{c[:4]}…{c[-4:]}"


# Valid test values: Luhn-valid cards, an SSN the SSA could have issued, IBANs with valid check digits, secrets in
# the vendors' formats (not the documentation ``…EXAMPLE`` keys, which are excluded by design).
VISA = Secret("4111111111111111", "card")
MASTERCARD = Secret("5500005555555559", "card")
VISA_2 = Secret("4012888888881881", "card")
DISCOVER = Secret("6011000990139424", "card")
AMEX = Secret("378282246310005", "card")
SSN = Secret("536-22-8174", "ssn")
IBAN_GB = Secret("GB82WEST12345698765432", "iban")
IBAN_DE = Secret("DE89370400440532013000", "iban")
GITHUB_TOKEN = Secret("ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4", "github token")
AWS_KEY_ID = Secret("AKIAZ7QJ3M5X2R6T4W6Y", "aws key id")

CARDS = (VISA, MASTERCARD, VISA_2, DISCOVER, AMEX)
ALL_SECRETS = (*CARDS, SSN, IBAN_GB, IBAN_DE, GITHUB_TOKEN, AWS_KEY_ID)

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def compact(text: str) -> str:
    """Compatibility-folded, lower-cased, letters and digits only: the form a value keeps through any disguise."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if ch.isalnum()).lower()


def digits(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text) if ch.isdigit())


def spell(value: str, sep: str = " ") -> str:
    """Digits spelled out as words (``4111`` -> ``four one one one``); other characters dropped."""
    return sep.join(_DIGIT_WORDS[int(ch)] for ch in value if ch.isdigit())


_SPELLED = re.compile(r"\b(" + "|".join(_DIGIT_WORDS) + r")\b", re.IGNORECASE)
_U_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_X_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})")
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/_-]{12,}={0,2}")


def _b64_decoded(text: str) -> Iterator[str]:
    for match in _BASE64_RUN.finditer(text):
        run = match.group(0)
        for altchars in (None, b"-_"):
            padded = run + "=" * (-len(run) % 4)
            try:
                raw = base64.b64decode(padded, altchars=altchars, validate=False)
            except (binascii.Error, ValueError):
                continue
            decoded = raw.decode("utf-8", "ignore")
            if decoded:
                yield decoded


def views(text: str) -> list[str]:
    """``text`` as an attacker's reader would see it: as is, and with every encoding the issue names decoded."""
    out = [text]
    out.append(html.unescape(text))
    out.append(urllib.parse.unquote(text))
    out.append(_U_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    out.append(_X_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text))
    out.append(_SPELLED.sub(lambda m: str(_DIGIT_WORDS.index(m.group(1).lower())), text))
    out.extend(_b64_decoded(text))
    return out


def flatten(node: Any) -> Iterator[str]:
    """Every key, string and number in a JSON value, in document order."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, bool) or node is None:
        return
    elif isinstance(node, int | float):
        yield str(node)
    elif isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from flatten(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from flatten(item)


_NAME_LIKE = re.compile(r"[A-Za-z_.:/-]*")


def joined_values(node: Any) -> str:
    """Every string value (not key) that is not a bare name, concatenated in document order: a value cut across
    adjacent messages, parts or fields reads whole here, as the model reads the conversation."""
    return "".join(v for v in _values(node) if not _NAME_LIKE.fullmatch(v))


def _values(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list | tuple):
        for item in node:
            yield from _values(item)


@dataclass
class Place:
    """One place searched for leaks: a name for messages, and its text (already flattened)."""

    name: str
    text: str
    _compact_views: list[str] | None = field(default=None, repr=False)

    def compact_views(self) -> list[str]:
        if self._compact_views is None:
            self._compact_views = [compact(v) for v in views(self.text)]
        return self._compact_views


def find_leak(place: Place, secret: Secret, carriers: Iterable[str] = ()) -> str | None:
    """How ``secret`` shows in ``place`` (a short description), or None when it does not."""
    if secret.raw in place.text:
        return "verbatim"
    for carrier in carriers:
        if carrier and carrier in place.text:
            return "in the form the attack sent it"
    needle = secret.compact
    # All but the last four characters is already more than any mask shows (a card mask keeps the last four):
    # a value released up to its last group, the rest masked, leaked too.
    partial = needle[:-4] if len(needle) >= 14 else None
    for i, view in enumerate(place.compact_views()):
        if needle in view:
            return "with separators/compatibility forms removed" if i == 0 else "once decoded"
        if partial is not None and partial in view:
            return "all but its last four characters"
    return None


def assert_no_leak(places: Iterable[Place], secrets: Iterable[Secret], carriers: Iterable[str] = ()) -> None:
    """Raise ``LeakError`` naming every (value, place) pair where a value shows."""
    secrets = list(secrets)
    carriers = [c for c in carriers if c]
    problems = []
    for place in places:
        for secret in secrets:
            how = find_leak(place, secret, carriers)
            if how is not None:
                problems.append(f"{secret.kind} {secret.shown} reached {place.name} ({how})")
    if problems:
        raise LeakError("; ".join(problems))


def assert_no_5xx(status: int, where: str, allowed: Iterable[int] = ()) -> None:
    """Raise ``ServerError`` for a 5xx answer that is not one of ``allowed`` (502/504 for upstream faults)."""
    if status >= 500 and status not in set(allowed):
        raise ServerError(f"{where}: the gateway answered {status} (bad input must get a 4xx)")


def expect(condition: bool, message: str) -> None:
    """Raise ``ContractError`` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise ContractError(message)
