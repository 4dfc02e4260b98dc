"""CONNECTION_STRING: connection strings that carry a password.

Two forms: URLs with credentials (``postgres://app:s3cr3t@db:5432/prod``, ``mongodb+srv://…``,
``redis://:pw@host``, any scheme) and key-value strings (``Server=db;User Id=app;Password=s3cr3t;``). The finding
covers the string up to the host (URL form) or the password (key-value form). A password that is a placeholder
or a reference (``user:password@``, ``:${DB_PASSWORD}@``) does not make a finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.detect.placeholders import is_placeholder
from clearance.models import Finding

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO = re.compile(r"([^\s:/?#@\"'<>]*):([^\s@/\"'<>]+)@([A-Za-z0-9.\-_\[\]:%]+)", re.ASCII)
# RE2: linear whatever the line (a backtracking engine is quadratic on "server=server=…").
_KEY_VALUE = re2.compile(
    r"(?i)(?:server|data source|host|address|addr)\s*=\s*[^;\n\"']+;(?:[^;\n\"']*;){0,12}?\s*(?:password|pwd)\s*=\s*"
    r"([^;\n\"']+)",
    re2_options(),
)


class ConnectionStringDetector(Detector):
    name = "connection_string"
    types = frozenset({"CONNECTION_STRING"})
    triggers: tuple[str, ...] = ("://", r"(?i)(?:password|pwd)\s{0,8}=")
    score = 0.97

    def find(self, doc: Document) -> Iterator[Finding]:
        yield from self._urls(doc.text)
        lower = doc.lower
        if "password" in lower or "pwd" in lower:
            yield from self._key_values(doc.text)

    def _urls(self, text: str) -> Iterator[Finding]:
        pos = text.find("://")
        while pos >= 0:
            start = pos
            while start > 0 and pos - start < 32 and text[start - 1] in _SCHEME_CHARS:
                start -= 1
            match = _USERINFO.match(text, pos + 3)
            if match is not None and start < pos and text[start].isalpha():
                password = unquote(match.group(2))
                if not is_placeholder(password, quoted=True):
                    yield Finding(start, match.end(), "CONNECTION_STRING", self.score, self.name)
                    pos = text.find("://", match.end())
                    continue
            pos = text.find("://", pos + 3)

    def _key_values(self, text: str) -> Iterator[Finding]:
        for match in _KEY_VALUE.finditer(text):
            password = match.group(1).strip()
            if not is_placeholder(password, quoted=True):
                end = match.start(1) + len(match.group(1).rstrip())
                yield Finding(match.start(), end, "CONNECTION_STRING", self.score, self.name)
