"""EMAIL_ADDRESS: e-mail addresses, also inside URLs, query strings and ``mailto:`` links.

The search starts from each ``@`` (and each URL-encoded ``%40``) rather than scanning the whole text with a
pattern, then reads the local part leftwards and the domain rightwards. A domain needs an alphabetic top-level
label. Addresses at the domains reserved for documentation (RFC 2606 and RFC 6761: ``example.com``,
``*.example``, ``*.test``, ``*.invalid``, ``*.localhost``) are not anyone's address and are not reported, nor are
SSH remotes (``git@github.com:org/repo``) and retina image names (``icon@2x.png``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.models import Finding

_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._%+-")
_DOMAIN = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,63})(?![A-Za-z0-9-])",
    re.ASCII,
)
_RETINA = re.compile(r"[0-9]x\.", re.ASCII)
RESERVED_DOMAINS = frozenset({"example.com", "example.net", "example.org", "localhost"})
RESERVED_TLDS = frozenset({"example", "test", "invalid", "localhost"})


_RESERVED_SUFFIXES = tuple("." + d for d in sorted(RESERVED_DOMAINS))


def reserved_domain(domain: str) -> bool:
    domain = domain.lower()
    return (
        domain in RESERVED_DOMAINS or domain.rsplit(".", 1)[-1] in RESERVED_TLDS or domain.endswith(_RESERVED_SUFFIXES)
    )


def _after_encoded_separator(text: str, start: int, at: int) -> int:
    """Skip a URL-encoded ``=``, ``&``, ``:`` or ``?`` in the local part (``email%3Djo%40x.org``)."""
    if text.find("%", start, at) < 0:
        return start
    local = text[start:at].upper()
    cut = max(local.rfind(code) for code in ("%3D", "%26", "%3A", "%3F", "%2F"))
    return start + cut + 3 if cut >= 0 else start


class EmailDetector(Detector):
    name = "email"
    types = frozenset({"EMAIL_ADDRESS"})
    triggers: tuple[str, ...] = ("@", "%40")
    score = 0.95

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        last_end = 0
        for at, width in self._separators(text):
            if at < last_end:
                continue
            start = at
            floor = max(last_end, at - 64)
            while start > floor and text[start - 1] in _LOCAL_CHARS:
                start -= 1
            while start < at and text[start] == ".":
                start += 1
            start = _after_encoded_separator(text, start, at)
            if start == at or text[at - 1] == ".":
                continue
            match = _DOMAIN.match(text, at + width)
            if match is None:
                continue
            domain = match.group()
            if reserved_domain(domain) or _RETINA.match(domain):
                continue
            end = match.end()
            if end < len(text) and text[end] == ":" and text[start:at] == "git":
                continue
            last_end = end
            yield Finding(start, end, "EMAIL_ADDRESS", self.score, self.name)

    @staticmethod
    def _separators(text: str) -> Iterator[tuple[int, int]]:
        """Positions of ``@`` and ``%40`` in order, with their widths."""
        plain = text.find("@")
        encoded = text.find("%40")
        while plain >= 0 or encoded >= 0:
            if encoded < 0 or 0 <= plain < encoded:
                yield plain, 1
                plain = text.find("@", plain + 1)
            else:
                yield encoded, 3
                encoded = text.find("%40", encoded + 3)
