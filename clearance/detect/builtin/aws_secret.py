"""AWS_SECRET_KEY: AWS secret access keys (40 base64 characters), reported with context.

Forty base64 characters are common (hashes, blobs), so a candidate must mix upper case, lower case and digits,
look random, and stand alone; its base score is low and a context word (``aws``, ``secret``) lifts it. Hex
strings such as git SHAs never qualify (one letter case only).
"""

from __future__ import annotations

from collections.abc import Iterator

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.checksums import shannon_entropy
from clearance.detect.exclusions import re2_options
from clearance.models import Finding

_BASE64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+"
_BASE64_BYTES = bytes(0x62 if c in _BASE64 else 0x2E for c in range(256))  # b for base64, . for anything else
_FORTY = b"b" * 40
# Maximal runs of base64 characters (RE2: linear, and fast on text with few long runs); exactly 40 qualify. Over
# the text's ASCII view (``Document.ascii``): no re-encoding per call, and offsets are the text's.
_RUN = re2.compile(r"[A-Za-z0-9/+]{40,}", re2_options())


class AwsSecretKeyDetector(Detector):
    name = "aws_secret_key"
    types = frozenset({"AWS_SECRET_KEY"})
    # No trigger: "40 base64 characters" can start at any letter or digit, and in the trigger pass's combined
    # automaton such a pattern multiplies the states of every other trigger (it made the pass twice as slow as
    # all the others together). A cheaper exact test runs instead: a byte search for 40 base64 characters in a
    # row, over a view of the text where each of them is one byte.
    triggers: tuple[str, ...] = ()
    score = 0.3

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        if len(text) < 40 or _FORTY not in doc.ascii.translate(_BASE64_BYTES):
            return
        classes = doc.skeleton
        for match in _RUN.finditer(doc.ascii):
            start, end = match.span()
            if end - start != 40 or text[end : end + 1] == "=":
                continue
            value = text[start:end]
            kinds = classes[start:end]  # every character is ASCII here: A upper case, a lower case, 0 a digit
            if (
                b"A" in kinds
                and b"a" in kinds
                and b"0" in kinds
                and "EXAMPLE" not in value
                and shannon_entropy(value) >= 4.0
            ):
                yield Finding(start, end, "AWS_SECRET_KEY", self.score, self.name)
