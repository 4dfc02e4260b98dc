"""Every console page, at desktop and phone width, in Chromium, with traffic recorded by the official SDK: it loads
signed in as someone who may see it, has a heading, fits the screen without scrolling sideways, names every form
control for a screen reader, puts the skip link first in the keyboard order, and shows focus. These are the pages'
pictures in docs/console.md (``CLEARANCE_SCREENSHOTS=1``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import Page, ViewportSize, expect

from clearance.app import AUDIT
from clearance.audit.checkpointer import Checkpointer
from clearance.audit.store import SqlAuditStore
from tests.admin.test_reveal import originals
from tests.audit.conftest import ORIGIN, make_signer
from tests.e2e.console.conftest import PageFactory, Screenshot
from tests.e2e.console.harness import ADMIN, APPROVER, AUDITOR, DESKTOP, PHONE, USER, Account, ConsoleGateway, sign_in

TOKEN = "ghp_8Rw2kLm4QxZ7vB1nW9cT5yE3uJ6pA0sD2fG7"
OTHER_TOKEN = "ghp_3Jq8nVb5XcZ1mL7kP4wR9tY2uE6iO0aS5dF1"


@pytest.fixture(scope="module")
def gateway_extra(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Originals sealed and checkpoints signed, so a record's page has its whole story."""
    folder: Path = tmp_path_factory.mktemp("keys")
    signing_key = folder / "checkpoint.key"
    signing_key.write_text(make_signer().secret_key_string())
    integrity = {"signing_key": {"file": str(signing_key)}, "checkpoint_interval": 3600}
    return {"audit": {"originals": originals(folder), "integrity": integrity}}


@dataclass(frozen=True)
class Traffic:
    approval_id: str
    """Still pending."""
    record_id: int
    """An exchange that was held, approved and then sent with its grant, under a signed checkpoint."""


def _held(client: openai.OpenAI, text: str) -> str:
    with pytest.raises(openai.PermissionDeniedError) as held:
        client.chat.completions.create(model="llama-internal", messages=[{"role": "user", "content": text}])
    body = held.value.body
    assert isinstance(body, dict)
    return str(body.get("error", body)["approval"]["id"])


@pytest.fixture(scope="module")
def traffic(gateway: ConsoleGateway) -> Traffic:
    """Sent by the SDK as an engineer: a masked request, a request held and approved then sent with its grant, one
    still held, and a plain one; then a checkpoint is signed."""
    client = openai.OpenAI(base_url=gateway.base_url, api_key=gateway.api_key(USER), max_retries=0, timeout=60)
    try:
        client.chat.completions.create(
            model="llama-internal",
            messages=[{"role": "user", "content": "Sum up jane.roe@example.com's ticket, card 4111 1111 1111 1111"}],
        )
        approved = _held(client, f"deploy with {TOKEN} please")
        answer = httpx.post(
            f"{gateway.url}/admin/v1/approvals/{approved}/approve",
            json={"reason": "change CHG-1234 is approved"},
            headers={"Authorization": f"Bearer {gateway.api_key(APPROVER)}"},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        client.chat.completions.create(
            model="llama-internal",
            messages=[{"role": "user", "content": f"deploy with {TOKEN} please"}],
            extra_headers={"X-Clearance-Approval": approved},
        )
        pending = _held(client, f"why does {OTHER_TOKEN} fail?")
        client.chat.completions.create(model="llama-internal", messages=[{"role": "user", "content": "hello"}])
    finally:
        client.close()
    used = next(r for r in gateway.records() if r["approval_id"] == approved and r["status"] == 200)
    store = gateway.app[AUDIT]
    assert isinstance(store, SqlAuditStore)
    assert Checkpointer(store.engine, make_signer(), origin=ORIGIN).checkpoint() is not None
    return Traffic(approval_id=pending, record_id=int(used["id"]))


@dataclass(frozen=True)
class ConsolePage:
    name: str
    account: Account
    path: Callable[[Traffic], str]


PAGES = (
    ConsolePage("home", ADMIN, lambda _t: "/console/"),
    ConsolePage("overview", AUDITOR, lambda _t: "/console/overview?window=24h"),
    ConsolePage("approvals-inbox", APPROVER, lambda _t: "/console/approvals"),
    ConsolePage("approvals-approval", APPROVER, lambda t: f"/console/approvals/{t.approval_id}"),
    ConsolePage("sessions", AUDITOR, lambda _t: "/console/sessions"),
    ConsolePage("sessions-mine", USER, lambda _t: "/console/sessions/mine"),
    ConsolePage("session-record", AUDITOR, lambda t: f"/console/sessions/{t.record_id}"),
    ConsolePage("policy", AUDITOR, lambda _t: "/console/policy"),
    ConsolePage("policy-history", AUDITOR, lambda _t: "/console/policy/history"),
    ConsolePage("policy-try", APPROVER, lambda _t: "/console/policy/try"),
    ConsolePage("keys", ADMIN, lambda _t: "/console/keys"),
)

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                  && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim())
                  && !(el.type === 'submit' && el.value))
  .map((el) => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
@pytest.mark.parametrize("shown", PAGES, ids=[p.name for p in PAGES])
def test_every_page_loads_fits_the_screen_and_names_its_controls(
    shown: ConsolePage, viewport: ViewportSize, traffic: Traffic, new_page: PageFactory, screenshot: Screenshot
) -> None:
    page: Page = new_page(viewport)
    sign_in(page, shown.account, shown.path(traffic))
    assert page.url.endswith(shown.path(traffic))
    expect(page.locator("main h1")).to_be_visible()
    expect(page.locator("main")).to_have_attribute("data-signed-in", shown.account.login)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{shown.name} scrolls sideways by {overflow} px at {viewport['width']} px"
    assert page.evaluate(UNNAMED_CONTROLS) == []
    screenshot(page, shown.name)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => [document.activeElement.className, getComputedStyle(document.activeElement).outlineStyle]"
    )
    assert focused[0] == "skip"
    assert focused[1] != "none"  # the focus is visible
