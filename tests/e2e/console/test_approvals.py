"""The approvals inbox in headless Chromium, against a real gateway and the real OpenID provider, with the official
``openai`` SDK as the client whose request waits for a decision.

- An approver has the inbox open; an SDK call that needs approval starts (in a thread) and waits
  (``X-Clearance-Wait``); the approval appears in the inbox without a reload; the approver opens it, approves with
  a reason; the SDK call completes, and the model double received the request as ``released_as`` said.
- A user without the approver role opens the approval's deep link: no approve button; a forged POST to the approve
  action without the CSRF token is refused (403), one with a valid token but without the role is refused too, and
  the approval is still pending in the store afterwards.
"""

from __future__ import annotations

import threading
from typing import Any

import openai
import pytest
from playwright.sync_api import Browser, Page, expect

from clearance.admin.approvals import APPROVALS_API
from clearance.app import APPROVALS
from clearance.approvals.store import ApprovalStore
from clearance.models import Identity
from tests.e2e.console.conftest import OpenAIFactory, Screenshot
from tests.e2e.console.harness import APPROVER, USER, BrowserWatch, ConsoleGateway, sign_in

TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
WAIT = 120
"""Seconds the SDK's request may wait for the decision (a bound: the test approves as soon as it shows)."""


def store(gateway: ConsoleGateway) -> ApprovalStore:
    return gateway.app[APPROVALS]


def ask(client: openai.OpenAI, text: str, **headers: str) -> Any:
    return client.chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": text}], extra_headers=headers or None
    )


def test_an_approver_sees_a_request_arrive_live_approves_it_and_the_waiting_sdk_call_completes(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory, screenshot: Screenshot
) -> None:
    sign_in(page, APPROVER, "/console/approvals")
    live = page.locator("[data-live-status]")
    expect(live).to_contain_text("Live")  # the event stream is open: nothing after this is missed
    cards = page.locator("#approval-lists article.approval")
    before = cards.count()
    received = len(gateway.upstream.received)
    client = openai_client(gateway.api_key(USER))
    answer: dict[str, Any] = {}

    def call() -> None:
        try:
            answer["reply"] = ask(client, f"why does {TOKEN} fail?", **{"X-Clearance-Wait": str(WAIT)})
        except Exception as exc:  # told to the test below
            answer["error"] = exc

    caller = threading.Thread(target=call, name="sdk-call", daemon=True)
    caller.start()
    try:
        expect(cards).to_have_count(before + 1)  # arrived without a reload
        expect(live).to_contain_text("new request")
        card = page.locator("section[aria-labelledby=to-decide] article.approval").first
        approval_id = card.get_attribute("data-approval")
        assert approval_id is not None
        expect(card).to_contain_text("GITHUB_TOKEN: 1")
        expect(card).not_to_contain_text(TOKEN)
        screenshot(page, "approvals-inbox")
        card.get_by_role("link").first.click()
        page.wait_for_url(f"**/console/approvals/{approval_id}")
        screenshot(page, "approvals-approval")
        page.get_by_label("Reason (optional)").fill("checked: a test token, INC-7")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_url(f"**/console/approvals/{approval_id}")
        expect(page.get_by_role("table").last).to_contain_text("checked: a test token, INC-7")
    finally:
        caller.join(WAIT + 30)
    assert not caller.is_alive()
    assert "error" not in answer, answer.get("error")
    assert answer["reply"].choices[0].message.content
    approval = store(gateway).get(approval_id)
    assert approval.state == "used"
    assert approval.released_as == {"GITHUB_TOKEN": "unmasked"}
    [sent] = gateway.upstream.received[received:]
    assert TOKEN in str(sent.body)  # released as released_as said: the token itself, once approved


@pytest.fixture
def held(gateway: ConsoleGateway, openai_client: OpenAIFactory) -> str:
    """A pending approval of USER's request (asked without waiting: refused at once with its id)."""
    with pytest.raises(openai.PermissionDeniedError) as refused:
        ask(openai_client(gateway.api_key(USER)), f"deploy with {TOKEN} please")
    body = refused.value.body
    assert isinstance(body, dict)
    error = body.get("error", body)
    assert error["code"] == "approval_required"
    approval_id = error["approval"]["id"]
    assert isinstance(approval_id, str)
    return approval_id


def test_a_user_without_the_approver_role_sees_no_approve_button_and_a_forged_post_is_refused(
    page: Page, gateway: ConsoleGateway, held: str
) -> None:
    sign_in(page, USER, f"/console/approvals/{held}")  # the deep link, as a notification opens it
    expect(page.locator("h1")).to_contain_text("pending")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Deny")).to_have_count(0)
    expect(page.get_by_role("button", name="Cancel request")).to_have_count(1)  # the requester's own

    action = f"{gateway.url}/console/approvals/{held}/approve"
    forged = page.request.post(action, form={"reason": "forged"}, max_redirects=0)  # the session's cookie, no token
    assert forged.status == 403
    assert "csrf_failed" in forged.text()
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    assert token
    no_role = page.request.post(action, form={"reason": "mine", "csrf": token}, max_redirects=0)
    assert no_role.status == 403
    assert "approver_role_required" in no_role.text()

    approval = store(gateway).get(held)
    assert (approval.state, approval.approved_by, len(approval.history)) == ("pending", (), 1)


def test_the_inbox_and_an_approval_fit_a_phone(phone_page: Page, gateway: ConsoleGateway, held: str) -> None:
    sign_in(phone_page, APPROVER, f"/console/approvals/{held}")
    for path in (f"/console/approvals/{held}", "/console/approvals"):
        phone_page.goto(path)
        overflow = phone_page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{path} is {overflow} px wider than the phone"
    expect(phone_page.locator(f'article[data-approval="{held}"]')).to_be_visible()
    phone_page.goto(f"/console/approvals/{held}")
    expect(phone_page.get_by_role("button", name="Approve")).to_be_visible()


def test_an_open_approval_page_says_when_the_approval_changes(page: Page, gateway: ConsoleGateway, held: str) -> None:
    sign_in(page, APPROVER, f"/console/approvals/{held}")
    live = page.locator("[data-live-status]")
    expect(page.get_by_role("button", name="Approve")).to_be_visible()
    requester = Identity(USER.login, email=USER.email, groups=USER.groups)
    for _ in range(50):  # bounded: until the page's stream is open (the next change is then announced)
        if gateway.app[APPROVALS_API].signals.feeds:
            break
        page.wait_for_timeout(100)
    gateway.call(gateway.app[APPROVALS_API].cancel(requester, held, "not needed"))  # as the admin API would
    expect(live).to_contain_text("This approval changed: cancelled")
    live.get_by_role("link", name="Reload to see it").click()
    expect(page.locator("h1")).to_contain_text("cancelled")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)


def test_without_javascript_the_inbox_lists_and_the_forms_still_decide(
    browser: Browser, gateway: ConsoleGateway, browser_watch: BrowserWatch, held: str
) -> None:
    context = browser.new_context(base_url=gateway.url, java_script_enabled=False)
    browser_watch.attach(context)
    try:
        page = context.new_page()
        sign_in(page, APPROVER, "/console/approvals")
        expect(page.locator("[data-live-status]")).to_contain_text("Reload the page")  # no script: says so
        page.locator(f'article[data-approval="{held}"]').get_by_role("link").first.click()
        page.get_by_label("Reason for denying (optional)").fill("not without a ticket")
        page.get_by_role("button", name="Deny").click()
        page.wait_for_url(f"**/console/approvals/{held}")
        expect(page.locator("h1")).to_contain_text("denied")
    finally:
        context.close()
    assert store(gateway).get(held).state == "denied"
