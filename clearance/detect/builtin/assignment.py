"""PASSWORD and API_KEY: credentials assigned to a key that names them, in any common syntax.

``password=…``, ``DB_PASSWORD: …``, ``"api_key": "…"``, ``client_secret => '…'``, ``?token=…&``,
``Authorization: Bearer …``, and in prose ``my password is …``. The finding covers the value only, so masking
keeps the key readable. An unquoted value ends at white space or punctuation that closes it, and at ``&`` only in
a URL query.

Values are judged, not just matched: placeholders, references and type names (``changeme-later``, ``None``,
``${DB_PASSWORD}``, ``os.environ["X"]``, ``password: str``) are not credentials. An ``API_KEY`` value must look
generated (long, varied, with digits); a ``PASSWORD`` value scores by its variety, so ``password=Tr0ub4dor&3``
is reported and ``password: required`` is not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.detect.placeholders import is_placeholder, looks_random, password_score
from clearance.models import Finding

_STEMS = ("pass", "pwd", "secret", "token", "apikey", "api_key", "api-key", "accesskey", "access_key", "bearer",
          "authorization", "credential")  # fmt: skip
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw"})
_API_KEY_ENDINGS = (
    "apikey", "accesskey", "secretkey", "secret", "token", "authtoken", "accesstoken", "refreshtoken",
    "privatetoken", "clientsecret", "credential", "credentials", "appsecret", "appkey", "secretaccesskey",
)  # fmt: skip
_SCHEMES = ("bearer ", "basic ", "token ")
_KEY_RUN = re.compile(r"[a-z0-9_.\-]*")
_SEPARATOR = re.compile(r"[\"']?[ \t]*(?::|=|is\s)")
_UNQUOTED = re.compile(r"[^ \t\r\n,;\"')}\]<>`]{1,512}")
_UNQUOTED_IN_QUERY = re.compile(r"[^ \t\r\n,;\"')}\]<>`&]{1,512}")
_MAX_VALUE = 512


def key_kind(key: str) -> str | None:
    """``PASSWORD``, ``API_KEY`` or None for a key name (already lower case)."""
    last = key.replace("-", "_").replace(".", "_").rsplit("_", 1)[-1]
    compact = key.replace("-", "").replace("_", "").replace(".", "")
    if last in _PASSWORD_WORDS or compact.endswith(("password", "passwd")):
        return "PASSWORD"
    if compact.endswith(_API_KEY_ENDINGS) or compact in ("bearer", "authorization"):
        return "API_KEY"
    return None


def _stem_positions(lower: str) -> list[int]:
    """Where each stem occurs in ``lower`` (every occurrence, also inside another stem's), in order. One
    ``str.find`` loop per stem: a dozen fast literal searches cost less than one pass of an automaton that stops
    at every character."""
    positions: list[int] = []
    for stem in _STEMS:
        p = lower.find(stem)
        while p >= 0:
            positions.append(p)
            p = lower.find(stem, p + 1)
    positions.sort()
    return positions


class AssignmentDetector(Detector):
    name = "assignment"
    types = frozenset({"PASSWORD", "API_KEY"})
    triggers: tuple[str, ...] = (
        r"(?i)(?:pass|pwd|secret|token|api.?key|access.?key|credential)[a-z0-9_.\-]*[\"']?\s*(?:[:=]|=>|is\s)",
        r"(?i)(?:bearer|authorization)\s*:?\s*[A-Za-z0-9]",
    )
    api_key_score = 0.8

    def find(self, doc: Document) -> Iterator[Finding]:
        text, lower = doc.text, doc.lower
        done = 0
        for p in _stem_positions(lower):
            if p < done:
                continue
            # Most stem hits are prose ("passed", "tokens of"): no assignment follows the word. Skip the rest of
            # the word too, so that a long token holding many stems is read once.
            key_end = _KEY_RUN.match(lower, p).end()  # type: ignore[union-attr]
            if _SEPARATOR.match(lower, key_end) is None and not lower.startswith(("bearer", "authorization"), p):
                done = key_end
                continue
            start = p
            while start > 0 and lower[start - 1] in _KEY_CHARS:
                start -= 1
            done = end = key_end
            kind = key_kind(lower[start:end].strip("._-"))
            if kind is None:
                continue
            header = lower[start:end].endswith(("bearer", "authorization"))
            in_query = start > 0 and text[start - 1] in "?&"
            found = self._value(text, lower, end, header=header, in_query=in_query)
            if found is None:
                continue
            v_start, v_end, quoted = found
            value = text[v_start:v_end]
            if value[:1] in "{[" or is_placeholder(value, quoted=quoted):
                continue
            score = password_score(value) if kind == "PASSWORD" else self._api_key_score(value)
            if score > 0:
                done = v_end
                yield Finding(v_start, v_end, kind, score, self.name)

    def _api_key_score(self, value: str) -> float:
        return self.api_key_score if looks_random(value) else 0.0

    @staticmethod
    def _value(text: str, lower: str, pos: int, *, header: bool, in_query: bool) -> tuple[int, int, bool] | None:
        """The span of the value assigned after the key ending at ``pos``, and whether it was quoted."""
        n = len(text)
        if pos < n and text[pos] in "\"'":
            pos += 1
        while pos < n and text[pos] in " \t":
            pos += 1
        for sep in (":=", "=>", "=", ":", "is "):
            if lower.startswith(sep, pos):
                pos += len(sep)
                break
        else:
            if not header:
                return None
        while pos < n and text[pos] in " \t":
            pos += 1
        if header:
            for scheme in _SCHEMES:
                if lower.startswith(scheme, pos):
                    pos += len(scheme)
                    break
        quote = text[pos] if pos < n and text[pos] in "\"'`" else ""
        if quote:
            end = text.find(quote, pos + 1, pos + 1 + _MAX_VALUE)
            if end < 0 or "\n" in text[pos + 1 : end]:
                return None
            return (pos + 1, end, True) if end > pos + 1 else None
        match = (_UNQUOTED_IN_QUERY if in_query else _UNQUOTED).match(text, pos)
        end = match.end() if match else pos
        while end > pos and text[end - 1] in ".:!?":
            end -= 1  # sentence punctuation after an unquoted value
        return (pos, end, False) if end > pos else None
