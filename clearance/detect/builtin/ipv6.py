"""IP_ADDRESS (version 6), validated by the standard library's ``ipaddress``.

Candidates are runs of hex digits and colons (with an optional embedded IPv4 tail and zone). Times
(``10:23:45``) and MAC addresses are not valid IPv6; ``::`` forms must have a group of at least two hex digits,
so ``a::b`` and slices such as ``[1::2]`` in code are not taken for addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

import re2

from clearance.detect.base import Detector, Document
from clearance.detect.exclusions import re2_options
from clearance.models import Finding

# RE2 (one linear pass; hex letters are common in prose, which a backtracking scan would try at every one), over
# the text's ASCII view (``Document.ascii``: no re-encoding per call, offsets are the text's). The boundaries that
# RE2 cannot express as look-around are checked on each candidate.
# A candidate has "::" or at least six groups: times (10:23:45) and MAC addresses never match at all.
_TAIL = r"(?:\.[0-9]{1,3}){0,3}(?:%[0-9A-Za-z]{1,15})?"
_CANDIDATE = re2.compile(
    rf"[0-9A-Fa-f:]*::[0-9A-Fa-f:]*{_TAIL}|[0-9A-Fa-f]{{1,4}}(?::[0-9A-Fa-f]{{1,4}}){{5,7}}{_TAIL}", re2_options()
)
_BEFORE = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:.")
_AFTER = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:")
_LONG_GROUP = re.compile(r"[0-9A-Fa-f]{2}")


class Ipv6Detector(Detector):
    name = "ipv6"
    types = frozenset({"IP_ADDRESS"})
    # Every candidate holds "::" or, having six groups, a colon, a group, a colon, a group and a colon. A trigger
    # that starts with a colon stays cheap in the trigger pass's combined automaton (hex digits would not: they
    # are common letters).
    triggers: tuple[str, ...] = ("::|:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:",)
    score = 0.8

    def find(self, doc: Document) -> Iterator[Finding]:
        text = doc.text
        if "::" not in text and text.count(":") < 5:
            return
        for match in _CANDIDATE.finditer(doc.ascii):
            start, end = match.span()
            if (start > 0 and text[start - 1] in _BEFORE) or (end < len(text) and text[end] in _AFTER):
                continue
            candidate = text[start:end]
            address = candidate.split("%", 1)[0]
            if "::" in address:
                if address.count("::") > 1 or not _LONG_GROUP.search(address):
                    continue
            elif "." not in address and address.count(":") != 7:
                continue  # without "::" or an IPv4 tail, eight groups or none (ipaddress says the same, slower)
            try:
                ipaddress.IPv6Address(address)
            except ValueError:
                continue
            yield Finding(start, end, "IP_ADDRESS", self.score, self.name)
