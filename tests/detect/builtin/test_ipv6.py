from __future__ import annotations

import pytest

from clearance.detect.builtin.ipv6 import Ipv6Detector
from tests.detect.helpers import values

DETECTOR = Ipv6Detector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("addr fe80::1%eth0 ok", "fe80::1%eth0"),
        ("2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334"),
        ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:0db8:0000:0000:0000:ff00:0042:8329"),
        ("::ffff:192.168.1.1", "::ffff:192.168.1.1"),
    ],
)
def test_when_an_ipv6_address_is_valid_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "at 10:23:45", "mac 00:1a:2b:3c:4d:5e", "x[1::2]", "std::vector", "a::b",
        "123e4567-e89b-12d3-a456-426614174000",
        "seven groups 2001:db8:85a3:0:0:8a2e:370", "nine groups 2001:db8:85a3:0:0:8a2e:370:7334:1",
    ],
)  # fmt: skip
def test_when_colons_are_times_macs_or_code_then_nothing_is_found(text: str) -> None:
    assert values(DETECTOR, text) == []
