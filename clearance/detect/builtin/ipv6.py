"""IP_ADDRESS (version 6), validated by the standard library's ``ipaddress``.

Candidates are runs of hex digits and colons (with an optional embedded IPv4 tail and zone). Times
(``10:23:45``) and MAC addresses are not valid IPv6; ``::`` forms must have a group of at least two hex digits,
so ``a::b`` and slices such as ``[1::2]`` in code are not taken for addresses.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from clearance.detect.base import Detector, Document
from clearance.models import Finding

_CANDIDATE = re.compile(
    r"(?<![0-9A-Za-z_:.])"
    r"(?:[0-9A-Fa-f]{1,4}|:)(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}"
    r"(?:%[0-9A-Za-z]{1,15})?"
    r"(?![0-9A-Za-z_:])",
    re.ASCII,
)
_LONG_GROUP = re.compile(r"[0-9A-Fa-f]{2}")


class Ipv6Detector(Detector):
    name = "ipv6"
    types = frozenset({"IP_ADDRESS"})
    triggers = (r"[0-9A-Fa-f]{1,4}::|::[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}",)
    score = 0.8

    def find(self, doc: Document) -> Iterator[Finding]:
        for match in _CANDIDATE.finditer(doc.text):
            candidate = match.group()
            address = candidate.split("%", 1)[0]
            if "::" in address and not _LONG_GROUP.search(address):
                continue
            try:
                ipaddress.IPv6Address(address)
            except ValueError:
                continue
            yield Finding(match.start(), match.end(), "IP_ADDRESS", self.score, self.name)
