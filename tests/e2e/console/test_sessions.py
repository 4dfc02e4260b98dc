"""The sessions browser in headless Chromium, signed in through the real OpenID provider, the traffic sent with the
``openai`` SDK: an auditor filters the sessions, opens a transcript (findings marked by type) with its story, and
reveals an original with a reason (the reveal recorded, as the API then lists it); an engineer sees only their own
sessions and gets 404 for someone else's and 403 for a reveal."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from playwright.sync_api import Page, expect

from tests.admin.test_records import write_record
from tests.admin.test_reveal import originals
from tests.e2e.console.conftest import OpenAIFactory, PageFactory, Screenshot
from tests.e2e.console.harness import APPROVER, AUDITOR, PHONE, USER, BrowserWatch, ConsoleGateway, sign_in

TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
"""A GitHub token: the e2e policy holds an engineer's request with one for security's approval, recorded in full."""


@pytest.fixture(scope="module")
def gateway_extra(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Originals sealed (``full`` records keep them), with a key file of the module's own."""
    folder: Path = tmp_path_factory.mktemp("sealing")
    return {"audit": {"originals": originals(folder)}}


def _admin(gateway: ConsoleGateway, key: str, method: str, path: str, body: Any = None) -> Any:
    answer = httpx.request(
        method, gateway.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _approved_exchange(gateway: ConsoleGateway, openai_client: OpenAIFactory) -> str:
    """An engineer's request with a token: held, approved by security, sent again with the grant. Its approval id."""
    engineer = openai_client(gateway.api_key(USER))
    messages: list[Any] = [{"role": "user", "content": f"deploy with {TOKEN} please"}]
    with pytest.raises(openai.PermissionDeniedError) as held:
        engineer.chat.completions.create(model="llama-internal", messages=messages)
    found = re.search(r"apr_[\w-]+", str(held.value.body))
    assert found is not None, held.value.body
    approval_id = found.group(0)
    _admin(gateway, gateway.api_key(APPROVER), "POST", f"/admin/v1/approvals/{approval_id}/approve", {"reason": "ok"})
    engineer.chat.completions.create(
        model="llama-internal", messages=messages, extra_headers={"X-Clearance-Approval": approval_id}
    )
    return approval_id


def test_an_auditor_filters_opens_the_transcript_and_reveals_an_original(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory, screenshot: Screenshot
) -> None:
    approval_id = _approved_exchange(gateway, openai_client)
    openai_client(gateway.api_key(USER)).chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": "nothing secret here"}]
    )
    gateway.records()  # flushed

    sign_in(page, AUDITOR, "/console/sessions")
    page.get_by_text("Filters: none").click()
    page.get_by_label("Type found").fill("GITHUB_TOKEN")
    page.get_by_label("Decision").select_option("require_approval")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"/console/sessions\?decision=require_approval&type=GITHUB_TOKEN$"))
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)  # held, then let through with its grant: both decided require_approval
    expect(rows.first).to_contain_text("sam")
    expect(page.get_by_role("link", name="CSV")).to_have_attribute(
        "href", "/console/sessions/export?decision=require_approval&type=GITHUB_TOKEN&format=csv"
    )
    screenshot(page, "sessions-filtered")

    rows.first.get_by_role("link").click()
    finding = page.locator("main .turns mark[data-type=GITHUB_TOKEN]")
    expect(finding).to_have_count(1)
    expect(finding).to_contain_text("(GITHUB_TOKEN found)")  # the type in words, for a screen reader
    expect(page.locator("main .turns")).not_to_contain_text(TOKEN)
    story = page.locator("ol.story")
    expect(story.get_by_role("link", name=approval_id)).to_be_visible()
    expect(story).to_contain_text("Approved by alice")
    expect(story).to_contain_text("spent")
    expect(story).to_contain_text("Used by sam")
    expect(page.locator("#integrity-badge")).to_contain_text("Integrity not configured")
    record_id = page.url.rsplit("/", 1)[1]

    page.get_by_label(re.compile("Why do you need the originals")).fill("incident INC-42")
    page.get_by_role("button", name="Reveal the originals").click()

    expect(page.locator("#original-request")).to_contain_text(TOKEN)
    expect(page.get_by_role("status").filter(has_text="Revealed")).to_contain_text("audrey")
    reveals = _admin(gateway, gateway.api_key(AUDITOR), "GET", f"/admin/v1/records/{record_id}/reveals")["data"]
    assert [(r["subject"], r["reason"]) for r in reveals] == [("audrey", "incident INC-42")]
    page.goto(f"/console/sessions/{record_id}")  # the originals are shown once, to the reveal's answer only
    expect(page.locator("#original-request")).to_have_count(0)
    expect(page.locator("table").last).to_contain_text("incident INC-42")


def test_an_engineer_sees_only_their_own_sessions_and_not_someone_elses(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory, browser_watch: BrowserWatch
) -> None:
    gateway.call(write_record(gateway.app, "alice", decision="allow"))
    openai_client(gateway.api_key(USER)).chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": "my own question"}]
    )
    gateway.records()
    others = [r["id"] for r in gateway.records() if r["subject"] != USER.login]
    browser_watch.allow("status of 40[34]")  # the refusals this test asks for

    sign_in(page, USER, "/console/sessions")

    expect(page).to_have_url(re.compile(r"/console/sessions/mine$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("My sessions")
    expect(page.locator("table thead")).not_to_contain_text("User")
    links = page.locator('table tbody a[href^="/console/sessions/"]')
    mine = {int(href.rsplit("/", 1)[1]) for href in links.evaluate_all("(els) => els.map((e) => e.href)")}
    assert mine and not mine & set(others)
    refused = page.goto(f"/console/sessions/{others[0]}")
    assert refused is not None and refused.status == 404
    expect(page.get_by_role("alert")).to_contain_text("no record with this id that you may see")
    export = page.request.get(gateway.url + "/console/sessions/export?format=json")
    assert export.status == 403


def test_a_transcript_fits_a_phone(
    new_page: PageFactory, gateway: ConsoleGateway, openai_client: OpenAIFactory, screenshot: Screenshot
) -> None:
    _approved_exchange(gateway, openai_client)
    gateway.records()
    phone = new_page(PHONE)
    sign_in(phone, AUDITOR, "/console/sessions")
    phone.locator("table tbody a").first.click()

    expect(phone.locator("ol.story")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "session-record")
