"""Who sees /metrics and /readyz details: a pure decision on the caller's address and identity."""

from __future__ import annotations

import pytest

from clearance.models import Identity
from clearance.observability.exposure import is_loopback, may_see_details


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1"])
def test_loopback_addresses_are_loopback(remote: str) -> None:
    assert is_loopback(remote)
    assert may_see_details(remote, None, public=False)


@pytest.mark.parametrize(
    "remote",
    [
        "10.0.0.5",
        "192.0.2.7",
        "203.0.113.9",
        "::ffff:192.0.2.7",
        "2001:db8::1",
        "0.0.0.0",
        "",
        None,
        "/tmp/sock",
        "localhost",
    ],
)
def test_other_callers_are_not_trusted_without_credentials(remote: str | None) -> None:
    assert not is_loopback(remote)
    assert not may_see_details(remote, None, public=False)
    assert not may_see_details(remote, Identity.anonymous(), public=False)


def test_an_authenticated_caller_or_public_metrics_see_details() -> None:
    assert may_see_details("192.0.2.7", Identity("svc-monitor", kind="service"), public=False)
    assert may_see_details("192.0.2.7", Identity("jane"), public=False)
    assert may_see_details("192.0.2.7", None, public=True)


@pytest.mark.parametrize("host", ["evil.example:8080", "127.0.0.1.evil.example", ""])
def test_a_loopback_caller_asking_for_another_host_does_not_see_details(host: str) -> None:
    # a page whose name was pointed at 127.0.0.1 (DNS rebinding) would read the metrics as same-origin
    assert not may_see_details("127.0.0.1", None, public=False, host=host)
    assert may_see_details("127.0.0.1", None, public=False, host="127.0.0.1:9090")
    assert may_see_details("127.0.0.1", Identity("jane"), public=False, host=host)  # credentials still count
