"""The console's pages as the navigation lists them, and who sees each: the one catalogue the layout, the home
page and the tests read. A page outside a caller's roles is not linked; its operations refuse the caller anyway
(the API's role checks), so hiding a link is a courtesy, never the control."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from clearance.admin.access import ADMIN
from clearance.admin.policy import POLICY_ROLES
from clearance.admin.stats import READERS as STATS_READERS


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    label: str
    path: str
    roles: frozenset[str]
    """Any one of these roles shows the link; empty: every signed-in caller."""
    summary: str

    def shown_to(self, roles: frozenset[str]) -> bool:
        return not self.roles or bool(self.roles & roles)


NAV: Final[tuple[NavItem, ...]] = (
    NavItem(
        "overview",
        "Overview",
        "/console/overview",
        STATS_READERS,
        "Requests, decisions, types found, per model and per user, over a window.",
    ),
    NavItem(
        "approvals",
        "Approvals",
        "/console/approvals",
        frozenset(),
        "Requests waiting for an approver: decide those you may, follow or cancel your own.",
    ),
    NavItem(
        "sessions",
        "Sessions",
        "/console/sessions",
        frozenset(),
        "Recorded exchanges: your own, or every one for auditors, with their findings and story.",
    ),
    NavItem(
        "policy",
        "Policy",
        "/console/policy",
        POLICY_ROLES,
        "The policy in force, its history, and a form to try a request against it or a draft.",
    ),
    NavItem("keys", "API keys", "/console/keys", frozenset({ADMIN}), "Create and revoke service-account API keys."),
)


def shown(roles: frozenset[str]) -> tuple[NavItem, ...]:
    return tuple(item for item in NAV if item.shown_to(roles))
