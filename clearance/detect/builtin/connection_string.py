"""PASSWORD (or CONNECTION_STRING) and API_KEY: credentials in URLs and connection strings.

The forms read: URLs with credentials in their user information (``postgres://app:s3cr3t@db:5432/prod``,
``mongodb+srv://…``, ``redis://:pw@host``, ``amqp://``, ``https://user:pw@host/repo.git``, any scheme), a
password in a URL's query or parameters (JDBC: ``jdbc:postgresql://db/app?user=u&password=p``,
``jdbc:sqlserver://db:1433;user=sa;password=p``), Oracle's ``jdbc:oracle:thin:user/password@host``, HTTP basic
authentication on a command line (``curl -u user:password``, ``--user=user:password``), and
key-value strings (ODBC, ADO.NET: ``Server=…;User Id=…;Password=…;``, with the password before or after the
server). Azure's ``AccountKey=`` and ``SharedAccessKey=`` in such strings are keys (``API_KEY``).

By default the finding is the password itself, typed ``PASSWORD``: the credential it is, and masking it keeps the
URL usable (``postgres://app:****@db:5432/app``). ``whole_urls=True`` (configuration:
``detection.connection_strings: whole``) restores the former report, one ``CONNECTION_STRING`` finding from the
scheme to the host (the user information only for web and code-host URLs), for policies written against that
type. A password that is a placeholder or a reference (``user:password@``, ``:${DB_PASSWORD}@``) makes no
finding.

A token alone in the user information (``https://ghp_…@github.com/org/repo.git``, ``https://<app token>@host``)
is a credential too: when it looks generated it is reported as ``API_KEY`` (a vendor's token is also found by its
own detector, which names its type and wins the overlap).
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
# The rest of a URL, to its end: a password in its query (JDBC, some drivers) or ``;key=value`` parameters.
_URL_REST = re.compile(r"[^\s\"'<>`]{0,2048}", re.ASCII)
# A fragment (#) after a query password is rare; "#" inside an ODBC-style parameter value is common.
_URL_PASSWORD = re.compile(r"(?i)[?&;](?:password|passwd|pwd|pass)=([^&;\s\"'<>`]{1,512})")
_ORACLE = re.compile(r"(?i)jdbc:oracle:[a-z]+:([^\s/@:\"']{1,128})/([^\s@\"']{1,512})@")
# Schemes whose URLs are opened as they are (a browser, git, a package manager): the whole-URL finding keeps them
# usable by covering the user information only.
_WEB_SCHEMES = frozenset(
    {"http", "https", "ftp", "ftps", "sftp", "git", "ssh", "git+ssh", "git+https", "svn", "svn+ssh", "ws", "wss"}
)
_SERVER_KEY = r"(?:server|data source|host|address|addr|hostname|endpoint)"
_PW_KEYS = r"(?:password|pwd)"
# RE2: linear whatever the line (a backtracking engine is quadratic on "server=server=…"). The password comes
# after the server (the common order) or before it.
_KEY_VALUE = re2.compile(
    rf"(?i){_SERVER_KEY}\s*=\s*[^;\n\"']+;(?:[^;\n\"']*;){{0,12}}?\s*{_PW_KEYS}\s*=\s*([^;\n\"']+)",
    re2_options(),
)
_KEY_VALUE_BEFORE = re2.compile(
    rf"(?i)(?:^|[;\s\"'])\s*{_PW_KEYS}\s*=\s*([^;\n\"']+);(?:[^;\n\"']*;){{0,12}}?\s*{_SERVER_KEY}\s*=",
    re2_options(),
)
# HTTP basic authentication on a command line: curl's and wget's ``-u user:password`` / ``--user user:password``.
_CLI_USER = re2.compile(r"(?:^|\s)(?:-u|--user)(?:\s+|=)[\"']?([^\s:\"'@]{1,128}):([^\s\"']{1,256})", re2_options())
_AZURE_KEY = re2.compile(r"(?i)(?:accountkey|sharedaccesskey)\s*=\s*([A-Za-z0-9+/=]{20,512})", re2_options())


_MARKER = re.compile(r"[\[<{(][A-Za-z_ \-]{1,40}[\]>})]")
"""A redaction marker or placeholder left where the password was: ``[PASSWORD]``, ``<password>``, ``{pw}``."""


def _real_password(value: str) -> bool:
    """Not a placeholder, a reference or a redaction marker (a masked string seen again in a later turn)."""
    return not is_placeholder(value, quoted=True) and _MARKER.fullmatch(value) is None


class ConnectionStringDetector(Detector):
    name = "connection_string"
    types = frozenset({"PASSWORD", "CONNECTION_STRING", "API_KEY"})
    triggers: tuple[str, ...] = (
        "://",
        r"(?i)(?:password|pwd)\s{0,8}=",
        r"(?i)jdbc:oracle:",
        r"(?i)(?:accountkey|sharedaccesskey)\s{0,8}=",
        r"(?:-u|--user)[\s=]",
    )
    score = 0.97
    password_score = 0.9
    """Under the vendor detectors' 0.95: a vendor token used as a URL's password keeps its own type."""

    def __init__(self, *, whole_urls: bool = False) -> None:
        self._whole = whole_urls

    def find(self, doc: Document) -> Iterator[Finding]:
        text, lower = doc.text, doc.lower
        if "://" in text:
            yield from self._urls(text)
        if "password" in lower or "pwd" in lower:
            yield from self._key_values(text)
        if "jdbc:oracle:" in lower:
            yield from self._oracle(text)
        if "-u" in text:
            for match in _CLI_USER.finditer(text):
                password = match.group(2).rstrip("\"'")
                if not password.isdigit() and _real_password(password):  # not a uid:gid (docker run -u 1000:1000)
                    yield self._password(match.start(2), match.start(2) + len(password))
        if "accountkey" in lower or "sharedaccesskey" in lower:
            for match in _AZURE_KEY.finditer(text):
                if looks_random(match.group(1), min_length=20):
                    yield Finding(match.start(1), match.end(1), "API_KEY", self.score, self.name)

    def _password(self, start: int, end: int) -> Finding:
        return Finding(start, end, "PASSWORD", self.password_score, self.name)

    def _urls(self, text: str) -> Iterator[Finding]:
        pos = text.find("://")
        while pos >= 0:
            start = pos
            while start > 0 and pos - start < 32 and text[start - 1] in _SCHEME_CHARS:
                start -= 1
            finding = self._userinfo(text, start, pos) if start < pos and text[start].isalpha() else None
            if finding is not None:
                yield finding
            resume = finding.end if finding is not None else pos + 3
            if start < pos and text[start].isalpha():
                # A password in the query or parameters, after the authority (and after a user-information finding).
                rest = _URL_REST.match(text, resume)
                rest_end = rest.end() if rest is not None else resume
                for match in _URL_PASSWORD.finditer(text, resume, rest_end):
                    if _real_password(unquote(match.group(1))):
                        yield self._password(match.start(1), match.end(1))
                resume = max(resume, rest_end)
            pos = text.find("://", resume)

    def _userinfo(self, text: str, start: int, pos: int) -> Finding | None:
        """The credential in the user information of the URL whose scheme is ``text[start:pos]``, if any."""
        match = _USERINFO.match(text, pos + 3)
        if match is not None:
            password = unquote(match.group(2))
            if _real_password(password):
                if not self._whole:
                    return self._password(match.start(2), match.end(2))
                if text[start:pos].lower() in _WEB_SCHEMES:
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
            if _real_password(password):
                end = match.start(1) + len(match.group(1).rstrip())
                if self._whole:
                    yield Finding(match.start(), end, "CONNECTION_STRING", self.score, self.name)
                else:
                    yield self._password(match.start(1), end)
        if self._whole:
            return  # the former report had no finding for a password before the server
        for match in _KEY_VALUE_BEFORE.finditer(text):
            password = match.group(1).strip()
            if _real_password(password):
                yield self._password(match.start(1), match.start(1) + len(match.group(1).rstrip()))

    def _oracle(self, text: str) -> Iterator[Finding]:
        for match in _ORACLE.finditer(text):
            if _real_password(match.group(2)):
                if self._whole:
                    yield Finding(match.start(), match.end(2), "CONNECTION_STRING", self.score, self.name)
                else:
                    yield self._password(match.start(2), match.end(2))
