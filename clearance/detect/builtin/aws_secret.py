"""AWS_SECRET_KEY: AWS secret access keys (40 base64 characters), reported with context.

Forty base64 characters are common (hashes, blobs), so a candidate must mix upper case, lower case and digits,
look random, and stand alone; its base score is low and a context word (``aws``, ``secret access key``) lifts
it. An AWS access key id (``AKIA…``, ``ASIA…``) shortly before or after the value is the pair's own evidence
(``AKIA… / <secret>``, ``AKIA…:<secret>``, a CSV row ``access_key_id,secret_access_key``): such a candidate scores
``paired_score``. Hex strings such as git SHAs never qualify (one letter case only).
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
# An access key id (the prefixes of tokens.py's AWS_ACCESS_KEY) standing alone, and how far from the secret it may
# be: a separator or a few words ("AKIA… and the secret is …"), not the next paragraph.
_KEY_ID = re2.compile(
    r"(?:^|[^A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}(?:$|[^A-Za-z0-9])", re2_options()
)
_PAIR_BEFORE = 60
_PAIR_AFTER = 40


class AwsSecretKeyDetector(Detector):
    name = "aws_secret_key"
    types = frozenset({"AWS_SECRET_KEY"})
    # No trigger: "40 base64 characters" can start at any letter or digit, and in the trigger pass's combined
    # automaton such a pattern multiplies the states of every other trigger (it made the pass twice as slow as
    # all the others together). A cheaper exact test runs instead: a byte search for 40 base64 characters in a
    # row, over a view of the text where each of them is one byte.
    triggers: tuple[str, ...] = ()
    score = 0.3
    paired_score = 0.9

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
                score = self.paired_score if _next_to_key_id(doc.ascii, start, end) else self.score
                yield Finding(start, end, "AWS_SECRET_KEY", score, self.name)


def _next_to_key_id(ascii_text: bytes, start: int, end: int) -> bool:
    """Whether an AWS access key id stands within a few words before ``start`` or after ``end``."""
    before = ascii_text[max(0, start - _PAIR_BEFORE) : start]
    after = ascii_text[end : end + _PAIR_AFTER]
    return _KEY_ID.search(before) is not None or _KEY_ID.search(after) is not None
