"""CONNECTION_STRING and API_KEY: credentials in URLs and connection strings.

Two forms: URLs with credentials (``postgres://app:s3cr3t@db:5432/prod``, ``mongodb+srv://…``,
``redis://:pw@host``, ``https://user:pw@host/repo.git``, any scheme) and key-value strings
(``Server=db;User Id=app;Password=s3cr3t;``). For a database or service URL the finding covers the string up to
the host; for a web or code-host URL (``https``, ``git``, ``ssh``…) it covers the user information only, so the
masked URL still reads as a URL with its host and path. A password that is a placeholder or a reference
(``user:password@``, ``:${DB_PASSWORD}@``) does not make a finding.

A token alone in the user information (``https://ghp_…@github.com/org/repo.git``, ``https://<app token>@host``)
is a credential too: when it looks generated it is reported as ``API_KEY`` (a vendor's token is also found by its
own detector, which names its type).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import unquote

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.detect.placeholders import is_placeholder, looks_random
from clearance.models import Finding

_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_USERINFO = re.compile(r"([^\s:/?#@\"'<>]*):([^\s@/\"'<>]+)@([A-Za-z0-9.\-_\[\]:%]+)", re.ASCII)
_BARE_USERINFO = re.compile(r"([^\s:/?#@\"'<>]{16,512})@[A-Za-z0-9\[]", re.ASCII)
# Schemes whose URLs are opened as they are (a browser, git, a package manager): the finding keeps them usable.
_WEB_SCHEMES = frozenset(
    {"http", "https", "ftp", "ftps", "sftp", "git", "ssh", "git+ssh", "git+https", "svn", "svn+ssh", "ws", "wss"}
)
# RE2: linear whatever the line (a backtracking engine is quadratic on "server=server=…").
_KEY_VALUE = re2.compile(
    r"(?i)(?:server|data source|host|address|addr)\s*=\s*[^;\n\"']+;(?:[^;\n\"']*;){0,12}?\s*(?:password|pwd)\s*=\s*"
    r"([^;\n\"']+)",
    re2_options(),
)


class ConnectionStringDetector(Detector):
    name = "connection_string"
    types = frozenset({"CONNECTION_STRING", "API_KEY"})
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
            finding = self._userinfo(text, start, pos) if start < pos and text[start].isalpha() else None
            if finding is not None:
                yield finding
            pos = text.find("://", finding.end if finding is not None else pos + 3)

    def _userinfo(self, text: str, start: int, pos: int) -> Finding | None:
        """The credential in the user information of the URL whose scheme is ``text[start:pos]``, if any."""
        web = text[start:pos].lower() in _WEB_SCHEMES
        match = _USERINFO.match(text, pos + 3)
        if match is not None:
            password = unquote(match.group(2))
            if not is_placeholder(password, quoted=True):
                if web:
                    return Finding(pos + 3, match.end(2), "CONNECTION_STRING", self.score, self.name)
                return Finding(start, match.end(), "CONNECTION_STRING", self.score, self.name)
        bare = _BARE_USERINFO.match(text, pos + 3)
        if bare is not None:
            token = unquote(bare.group(1))
            if not is_placeholder(token, quoted=True) and looks_random(token, min_length=16):
                return Finding(pos + 3, bare.end(1), "API_KEY", 0.9, self.name)
        return None

    def _key_values(self, text: str) -> Iterator[Finding]:
        for match in _KEY_VALUE.finditer(text):
            password = match.group(1).strip()
            if not is_placeholder(password, quoted=True):
                end = match.start(1) + len(match.group(1).rstrip())
                yield Finding(match.start(), end, "CONNECTION_STRING", self.score, self.name)
