"""JWT: JSON Web Tokens (signed JWS compact form), checked by decoding the header.

Three base64url segments separated by dots, the first two starting with ``eyJ`` (``{"``). The header must
decode to a JSON object that names an ``alg``; a random ``eyJ…`` string does not.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.models import Finding

# RE2: a backtracking engine would rescan a long token once per "eyJ" in it (quadratic). Over the text's ASCII
# view (``Document.ascii``): no re-encoding per call, and offsets are the text's.
_JWT = re2.compile(r"eyJ[A-Za-z0-9_-]{6,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*", re2_options())
_TOKEN_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def jwt_header(segment: str) -> dict[str, object] | None:
    """The decoded header of a JWT, or None if ``segment`` is not base64url JSON."""
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        header = json.loads(raw)
    except (binascii.Error, ValueError):
        return None
    return header if isinstance(header, dict) else None


class JwtDetector(Detector):
    name = "jwt"
    types = frozenset({"JWT"})
    triggers: tuple[str, ...] = ("eyJ",)
    score = 0.95

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        for match in _JWT.finditer(doc.ascii):
            start, end = match.span()
            if start > 0 and text[start - 1] in _TOKEN_CHARS:
                continue
            header = jwt_header(text[start : text.index(".", start)])
            if header is None or "alg" not in header:
                continue
            yield Finding(start, end, "JWT", self.score, self.name)
