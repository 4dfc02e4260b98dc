"""PRIVATE_KEY: PEM and OpenSSH private key blocks (RSA, EC, DSA, PKCS#8, encrypted, OpenSSH, PGP).

The finding covers the whole block, from ``-----BEGIN … PRIVATE KEY-----`` to the matching ``END`` line. When
the end is missing (a key pasted half, or cut by a length limit) it covers the base64 body that follows, also
when newlines are escaped inside a JSON string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.models import Finding

_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]{1,16} ){0,4})PRIVATE KEY( BLOCK)?-----", re.ASCII)
_BREAK = r"(?:[ \t]*(?:\r?\n|\\r?\\n)|[ \t]+)"
# Full base64 lines (64 characters in PEM, 70 in OpenSSH), header lines, then at most one shorter last line.
_BODY = re.compile(
    rf"(?:{_BREAK}(?:[A-Za-z0-9+/=]{{60,76}}|(?:Proc-Type|DEK-Info|Comment): [^\r\n\\]*))*"
    rf"(?:{_BREAK}[A-Za-z0-9+/=]{{1,76}})?",
    re.ASCII,
)


class PrivateKeyDetector(Detector):
    name = "private_key"
    types = frozenset({"PRIVATE_KEY"})
    triggers: tuple[str, ...] = (r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY",)
    score = 0.99

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        pos = 0
        while True:
            match = _BEGIN.search(text, pos)
            if match is None:
                return
            end_marker = f"-----END {match.group(1)}PRIVATE KEY{match.group(2) or ''}-----"
            end = text.find(end_marker, match.end())
            if end >= 0:
                end += len(end_marker)
            else:
                body = _BODY.match(text, match.end())
                end = body.end() if body else match.end()
            yield Finding(match.start(), end, "PRIVATE_KEY", self.score, self.name)
            pos = end
