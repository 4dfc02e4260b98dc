from __future__ import annotations

import pytest

from clearance.detect.builtin.email import EmailDetector, reserved_domain
from tests.detect.helpers import values

DETECTOR = EmailDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail john.doe@acme.co.uk now", "john.doe@acme.co.uk"),
        ("<jane+tag@corp.io>", "jane+tag@corp.io"),
        ("mailto:bob@mail.org.", "bob@mail.org"),
        ("https://app.io/invite?email=jane@corp.io&ref=1", "jane@corp.io"),
        ("https://app.io/invite?email=jane%40corp.io&ref=1", "jane%40corp.io"),
        ("https://app.io/u?to%3Djane%40corp.io", "jane%40corp.io"),
        ('{"email": "x_y@sub.domain.travel"}', "x_y@sub.domain.travel"),
    ],
)
def test_when_an_address_is_present_then_it_is_found_also_in_urls(text: str, expected: str) -> None:
    assert values(DETECTOR, text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "jane@example.com",
        "ops@mail.example.org",
        "user@host.test",
        "a@b.invalid",
        "git@github.com:org/repo.git",
        "icon@2x.png",
        "pkg@1.2.3",
        "@angular/core",
        "name@localhost",
        "x@y",
    ],
)
def test_when_an_address_is_a_placeholder_or_not_an_address_then_it_is_not_found(text: str) -> None:
    assert values(DETECTOR, text) == []


def test_when_a_domain_is_reserved_for_documentation_then_it_is_recognised() -> None:
    assert reserved_domain("EXAMPLE.com") and reserved_domain("x.example") and not reserved_domain("examples.com")
