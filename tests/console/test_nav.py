"""The navigation catalogue: each page shown to the roles that may use it."""

from __future__ import annotations

import pytest

from clearance.console.nav import NAV, shown


@pytest.mark.parametrize(
    ("roles", "keys"),
    [
        (frozenset(), {"approvals", "sessions"}),
        (frozenset({"user"}), {"approvals", "sessions"}),
        (frozenset({"approver"}), {"approvals", "sessions", "policy"}),
        (frozenset({"auditor"}), {"overview", "approvals", "sessions", "policy"}),
        (frozenset({"admin"}), {"overview", "approvals", "sessions", "policy", "keys"}),
    ],
)
def test_when_listing_the_nav_then_each_role_sees_its_pages(roles: frozenset[str], keys: set[str]) -> None:
    assert {item.key for item in shown(roles)} == keys


def test_every_page_lives_under_the_console() -> None:
    assert all(item.path.startswith("/console/") for item in NAV)
    assert len({item.key for item in NAV}) == len(NAV)
