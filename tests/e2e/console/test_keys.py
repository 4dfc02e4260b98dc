"""API keys in the browser: an admin signed in through the real OpenID provider makes a key, sees it once (and
copies it), the key works with the openai SDK against the gateway, then the admin revokes it (with a script's
dialog, and without scripts through the confirmation page) and the SDK gets 401. A non-admin sees no Keys link,
gets 403 for the page, and the admin API refuses their key."""

from __future__ import annotations

import re

import openai
import pytest
import requests
from playwright.sync_api import Browser, Dialog, Page, expect

from tests.e2e.console.conftest import OpenAIFactory, Screenshot
from tests.e2e.console.harness import ADMIN, AUDITOR, PHONE, USER, BrowserWatch, ConsoleGateway, sign_in

KEY = re.compile(r"^clr_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$")


def make_key(page: Page, name: str, groups: str = "engineering") -> str:
    """Fill the create form on the keys page and return the key the answer shows."""
    page.get_by_label("Name (what it is for)").fill(name)
    page.get_by_label("Groups (comma-separated)").fill(groups)
    page.get_by_role("button", name="Make key").click()
    expect(page.get_by_role("heading", name="API key created")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("it will not be shown again")
    raw = (page.locator("#new-key").text_content() or "").strip()
    assert KEY.match(raw), raw
    return raw


def ask(openai_client: OpenAIFactory, key: str) -> str:
    answer = openai_client(key).chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": "hello"}]
    )
    return answer.choices[0].message.content or ""


def test_an_admin_makes_a_key_sees_it_once_uses_it_and_revokes_it(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory, screenshot: Screenshot
) -> None:
    sign_in(page, ADMIN, "/console/keys")
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()

    raw = make_key(page, "e2e report bot")
    key_id = KEY.match(raw).group(1)  # type: ignore[union-attr]  # matched in make_key
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=gateway.url)
    page.get_by_role("button", name="Copy").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == raw
    screenshot(page, "keys-created")

    assert ask(openai_client, raw)  # the key works at once

    page.goto("/console/keys")
    row = page.get_by_role("row").filter(has_text=key_id)
    expect(row).to_contain_text("e2e report bot")
    expect(row).to_contain_text("active")
    assert raw not in page.content()  # shown once: never in the list

    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    row.get_by_role("button", name=f"Revoke key {key_id}").click()
    expect(page.get_by_role("status")).to_contain_text(f"API key {key_id} is revoked")
    assert len(dialogs) == 1 and key_id in dialogs[0]
    expect(page.get_by_role("row").filter(has_text=key_id)).to_contain_text("revoked")

    with pytest.raises(openai.AuthenticationError) as refused:
        ask(openai_client, raw)
    assert refused.value.status_code == 401


def test_without_scripts_the_key_is_still_shown_once_and_revoked_through_a_confirmation(
    browser: Browser, gateway: ConsoleGateway, openai_client: OpenAIFactory, browser_watch: BrowserWatch
) -> None:
    context = browser.new_context(java_script_enabled=False, base_url=gateway.url)
    browser_watch.attach(context)
    try:
        page = context.new_page()
        sign_in(page, ADMIN, "/console/keys")
        raw = make_key(page, "no-script key")
        key_id = KEY.match(raw).group(1)  # type: ignore[union-attr]  # matched in make_key
        assert ask(openai_client, raw)

        page.goto("/console/keys")
        page.get_by_role("row").filter(has_text=key_id).get_by_role("button", name=f"Revoke key {key_id}").click()
        expect(page.get_by_role("heading", name="Revoke an API key")).to_be_visible()
        assert ask(openai_client, raw)  # asking to confirm changed nothing
        page.get_by_role("button", name=f"Revoke {key_id}").click()
        expect(page.get_by_role("status")).to_contain_text(f"API key {key_id} is revoked")

        with pytest.raises(openai.AuthenticationError):
            ask(openai_client, raw)
    finally:
        context.close()


@pytest.mark.parametrize("account", [USER, AUDITOR], ids=lambda a: a.login)
def test_a_non_admin_sees_no_keys_link_and_is_refused_by_page_and_api(
    page: Page, gateway: ConsoleGateway, browser_watch: BrowserWatch, account: object
) -> None:
    browser_watch.allow("status of 403")  # the refused page itself
    sign_in(page, account, "/console/")  # type: ignore[arg-type]  # an Account, by the parametrize
    nav = page.get_by_role("navigation", name="Console")
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="API keys")).to_have_count(0)

    response = page.goto("/console/keys")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("admin role")

    theirs = gateway.api_key(account)  # type: ignore[arg-type]
    admins = gateway.api_key(ADMIN)
    before = requests.get(gateway.url + "/admin/v1/keys", headers={"Authorization": f"Bearer {admins}"}, timeout=30)
    refused = requests.post(
        gateway.url + "/admin/v1/keys",
        headers={"Authorization": f"Bearer {theirs}"},
        json={"name": "mine", "groups": ["clearance-admins"]},
        timeout=30,
    )
    after = requests.get(gateway.url + "/admin/v1/keys", headers={"Authorization": f"Bearer {admins}"}, timeout=30)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "admin_role_required"
    assert before.status_code == after.status_code == 200
    assert len(after.json()["data"]) == len(before.json()["data"])


def fits_a_phone(phone_page: Page, path: str, heading: str) -> None:
    """An admin's ``path`` on a phone: no wider than the screen once loaded."""
    sign_in(phone_page, ADMIN, path)
    expect(phone_page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    phone_page.wait_for_load_state("load")
    assert phone_page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_keys_page_fits_a_phone(phone_page: Page, gateway: ConsoleGateway, screenshot: Screenshot) -> None:
    fits_a_phone(phone_page, "/console/keys", "API keys")
    screenshot(phone_page, "keys")
