"""The overview in the browser: traffic sent with the openai SDK, then an auditor and an admin signed in through the
real provider see its figures as charts, with tables of the same numbers that match the audit trail; the window
selector works without scripts; the page fits a phone; a user without the role gets no link and a 403."""

from __future__ import annotations

import contextlib
from collections import Counter

import openai
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.console.conftest import Screenshot
from tests.e2e.console.harness import ADMIN, AUDITOR, USER, Account, BrowserWatch, ConsoleGateway, sign_in
from tests.e2e.console.test_keys import fits_a_phone

TOKEN = "deploy with ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


@pytest.fixture(scope="module", autouse=True)
def traffic(gateway: ConsoleGateway) -> None:
    """A few requests through the gateway: allowed, one needing an approval (a token), one from nobody known."""
    keys = {USER.login: gateway.api_key(USER), ADMIN.login: gateway.api_key(ADMIN)}
    for who, content in ((USER.login, "hello"), (USER.login, TOKEN), (ADMIN.login, "hi"), (USER.login, "again")):
        client = openai.OpenAI(base_url=gateway.base_url, api_key=keys[who], max_retries=0, timeout=60)
        with client, contextlib.suppress(openai.PermissionDeniedError):
            client.chat.completions.create(model="llama-internal", messages=[{"role": "user", "content": content}])


def figure_table(page: Page, summary: str) -> dict[str, list[str]]:
    """The rows of the table behind ``summary`` (opened first): its row header to its cells."""
    details = page.locator("details").filter(has=page.locator("summary", has_text=summary))
    details.locator("summary").click()
    rows = {}
    for row in details.locator("tbody tr").all():
        rows[row.locator("th").inner_text().strip()] = [c.strip() for c in row.locator("td").all_inner_texts()]
    return rows


@pytest.mark.parametrize("account", [AUDITOR, ADMIN], ids=lambda a: a.login)
def test_the_overview_shows_the_trails_figures(page: Page, gateway: ConsoleGateway, account: Account) -> None:
    records = gateway.records()
    sign_in(page, account, "/console/overview")

    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_role("img", name="Requests per 15 minutes")).to_be_visible()
    decisions = Counter((r["decision"] or "none").replace("_", " ") for r in records)
    assert {name: int(cells[0]) for name, cells in figure_table(page, "Decisions by action").items()} == decisions
    users = Counter(r["subject"] or "(anonymous)" for r in records)
    assert {name: int(cells[0]) for name, cells in figure_table(page, "Per user").items()} == users
    assert "GITHUB_TOKEN" in figure_table(page, "Types found most")


def test_the_window_selector_works_without_scripts(page: Page, gateway: ConsoleGateway) -> None:
    sign_in(page, AUDITOR, "/console/overview")
    page.get_by_role("radio", name="custom").check()
    page.get_by_label("From (UTC)").fill("2020-01-01T00:00")
    page.get_by_label("To (UTC)").fill("2020-01-02T00:00")
    page.get_by_role("button", name="Show").click()

    expect(page.get_by_role("status")).to_contain_text("No requests in this window.")
    assert "window=custom" in page.url


def test_the_overview_fits_a_phone(phone_page: Page, gateway: ConsoleGateway, screenshot: Screenshot) -> None:
    fits_a_phone(phone_page, "/console/overview", "Overview")
    screenshot(phone_page, "overview")


def test_a_user_without_the_role_gets_no_link_and_a_403(
    page: Page, gateway: ConsoleGateway, browser_watch: BrowserWatch
) -> None:
    browser_watch.allow("status of 403")
    sign_in(page, USER, "/console/")
    expect(page.get_by_role("navigation", name="Console").get_by_role("link", name="Overview")).to_have_count(0)
    response = page.goto("/console/overview")
    assert response is not None and response.status == 403
