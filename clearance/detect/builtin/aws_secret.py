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

# Maximal runs of base64 characters (RE2: linear, and fast on text with few long runs); exactly 40 qualify. Over
# the text's ASCII view (``Document.ascii``): no re-encoding per call, and offsets are the text's.
_RUN = re2.compile(r"[A-Za-z0-9/+]{40,}", re2_options())


class AwsSecretKeyDetector(Detector):
    name = "aws_secret_key"
    types = frozenset({"AWS_SECRET_KEY"})
    triggers = (r"[A-Za-z0-9/+]{40}",)
    score = 0.3

    def find(self, doc: Document) -> Iterator[Finding]:
        text, classes = doc.text, doc.skeleton
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
