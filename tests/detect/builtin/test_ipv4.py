from __future__ import annotations

import pytest

from clearance.detect.builtin.ipv4 import Ipv4Detector
from clearance.detect.scanner import Scanner
from tests.detect.helpers import values

DETECTOR = Ipv4Detector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("from 192.168.1.20 port", "192.168.1.20"),
        ("10.0.0.0/8", "10.0.0.0"),
        ("ip=10.0.0.1:8080", "10.0.0.1"),
        ("[255.255.255.255]", "255.255.255.255"),
    ],
)
def test_when_an_address_is_valid_then_it_is_found(text: str, expected: str) -> None:
    assert values(DETECTOR, text, min_score=0.5) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "v1.2.3.4",
        "Chrome/120.0.6099.109",
        "1.2.3.4.5",
        "999.1.1.1",
        "192.168.001.1",
        "build 1.2.3.4.RELEASE",
        "lib-1.2.3.4",
    ],
)
def test_when_a_dotted_number_is_a_version_then_it_is_not_an_address(text: str) -> None:
    assert values(DETECTOR, text) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("version 10.1.2.3 ships", False),
        ("host 10.1.2.3", True),
        ("see 1.2.3.4", False),  # one-digit parts read as a version
        ("dns server 1.1.1.1", True),
        ("version 1.2.3.4 and host 10.1.2.3", True),
        # "node" is a cluster or Kubernetes node with an address, not Node.js; so are pods, peers and backends
        ("Back-off restarting failed container (node 10.143.179.206, pod api-7f9c)", True),
        ("kubelet: node 172.16.4.21 NotReady", True),
        ("pod 10.244.1.17 evicted", True),
        ("raft: peer 10.0.3.12 unreachable", True),
        ("upstream 192.168.10.5:8080 timed out", True),
        ("backend 10.20.30.40 marked down", True),
        ("nodejs 18.12.1.0 installed", False),
        ("chrome 120.0.6099.71 crashed", False),
        ("build 10.0.19041.1 installed", False),
    ],
)
def test_when_scanned_then_context_separates_versions_from_addresses(text: str, found: bool) -> None:
    assert ("IP_ADDRESS" in [f.type for f in Scanner().scan(text)]) is found
