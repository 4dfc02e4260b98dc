"""The policy pages in headless Chromium, signed in through the real OpenID provider: the policy in force, the
"try it" form (a text the live policy blocks shows ``block`` and the rule's id; a draft that allows it shows the
other decision and how many recorded decisions would change), and the history with a diff, on a desktop and a
phone."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import openai
import pytest
from playwright.sync_api import Page, expect

from clearance.app import POLICY as HOLDER
from tests.e2e.console.conftest import OpenAIFactory, Screenshot
from tests.e2e.console.harness import APPROVER, AUDITOR, POLICY, USER, BrowserWatch, ConsoleGateway, sign_in

TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
BLOCK_RULE = """
  - id: no-tokens-to-hosted
    description: a token never goes to the partner's model, approved or not
    when:
      models: [codellama-hosted]
      types: [GITHUB_TOKEN]
    action: block
    message: keep tokens away from codellama-hosted
"""
ALLOW_DRAFT = """version: 1
clearances:
  - {groups: [engineering], level: restricted}
  - {groups: [security], level: restricted, roles: [user, approver]}
  - {groups: [audit], level: public, roles: [auditor]}
models:
  - {name: llama-internal, max_level: restricted}
  - {name: codellama-hosted, max_level: restricted}
"""


@pytest.fixture(scope="module")
def gateway_extra(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The e2e policy with a block rule first: a token for the hosted model is refused outright."""
    text = POLICY.read_text().replace("\nrules:\n", "\nrules:\n" + BLOCK_RULE.lstrip("\n"), 1)
    assert "no-tokens-to-hosted" in text
    path: Path = tmp_path_factory.mktemp("policy") / "policy.yaml"
    path.write_text(text)
    return {"policy": {"file": str(path), "reload_interval": 3600}}


def no_sideways_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_the_policy_in_force_shows_its_rules_in_order_and_its_version(page: Page, gateway: ConsoleGateway) -> None:
    sign_in(page, AUDITOR, "/console/policy")

    expect(page.get_by_role("heading", name="Policy in force")).to_be_visible()
    rules = page.get_by_role("table").filter(has_text="Recorded")
    expect(rules.get_by_role("row").nth(1)).to_contain_text("no-tokens-to-hosted")
    expect(rules.get_by_role("row").nth(2)).to_contain_text("secrets-need-approval")
    expect(page.locator("main")).to_contain_text("Loaded")
    expect(page.locator("main time").first).to_have_attribute("datetime", re.compile(r"^\d{4}-\d\d-\d\dT\d\d:"))


def test_the_try_it_form_shows_a_block_with_its_rule_id_and_a_draft_that_allows_it(
    page: Page, gateway: ConsoleGateway, openai_client: OpenAIFactory, screenshot: Screenshot
) -> None:
    # recorded traffic for the what-if count: sam's token for the hosted model, refused by the live rule
    with pytest.raises(openai.PermissionDeniedError):
        openai_client(gateway.api_key(USER)).chat.completions.create(
            model="codellama-hosted", messages=[{"role": "user", "content": f"deploy with {TOKEN}"}]
        )
    recorded = len(gateway.records())
    sign_in(page, APPROVER, "/console/policy/try")

    page.get_by_label("User", exact=True).check()
    page.get_by_label("Name (an email or subject; a service account's name)").fill("sam@example.com")
    page.get_by_label("Groups (comma-separated)").fill("engineering")
    page.get_by_label("Model").select_option("codellama-hosted")
    page.get_by_label("Text", exact=True).fill(f"please deploy with {TOKEN}")
    expect(page.get_by_label("Draft policy", exact=True)).to_have_value(re.compile("^# The policy of the console"))
    page.get_by_label("Draft policy", exact=True).fill(ALLOW_DRAFT)
    page.get_by_role("button", name="Try it").click()

    live = page.get_by_role("region", name="Live policy")
    draft = page.get_by_role("region", name="Draft")
    expect(live.locator(".trial-action")).to_have_text("block")
    expect(live.locator(".trial-rule")).to_have_text("no-tokens-to-hosted")
    expect(live).to_contain_text("keep tokens away from codellama-hosted")
    expect(draft.locator(".trial-action")).to_have_text("allow")
    expect(draft.locator(".trial-rule")).to_have_text("default")
    expect(page.locator(".what-if-count")).to_contain_text("1 of the 1 recorded decisions")
    expect(page.get_by_label("Text", exact=True)).to_have_value(f"please deploy with {TOKEN}")  # no reload: swapped in
    assert len(gateway.records()) == recorded  # the trial itself is not recorded
    screenshot(page, "policy-try")


def test_the_try_it_form_works_without_its_script_and_says_what_is_wrong_in_a_draft(
    page: Page, gateway: ConsoleGateway, browser_watch: BrowserWatch
) -> None:
    browser_watch.allow(r"policy\.js")  # this test blocks the page's script: the plain form must do
    page.route("**/console/static/policy.js", lambda route: route.abort())
    sign_in(page, APPROVER, "/console/policy/try")

    page.get_by_label("Text", exact=True).fill("hello")
    page.get_by_label("Draft policy", exact=True).fill("version: 1\nclearances: [{groups: [g], level: secret}]\n")
    page.get_by_role("button", name="Try it").click()

    expect(page.get_by_role("alert")).to_contain_text("The draft policy is invalid")
    expect(page.get_by_role("alert")).to_contain_text("clearances.0.level")
    expect(page.get_by_label("Text", exact=True)).to_have_value("hello")


def test_history_diffs_two_versions_with_marked_lines(
    page: Page, gateway: ConsoleGateway, screenshot: Screenshot
) -> None:
    policy_file = Path(str(gateway.config.policy.file))
    policy_file.write_text(policy_file.read_text().replace("grant_for: 4h", "grant_for: 2h", 1))
    assert gateway.app[HOLDER].reload() is True  # as SIGHUP does
    sign_in(page, AUDITOR, "/console/policy/history")

    expect(page.get_by_role("table").get_by_role("row")).to_have_count(3)  # a header and two versions
    page.get_by_role("button", name="Show the diff").click()
    expect(page.locator("li.diff-removed")).to_have_text(["Removed: -      grant_for: 4h"])
    expect(page.locator("li.diff-added")).to_have_text(["Added: +      grant_for: 2h"])
    expect(page.locator("li.diff-added .visually-hidden").first).to_have_text("Added:")
    screenshot(page, "policy-history")


@pytest.mark.parametrize("path", ["/console/policy", "/console/policy/history", "/console/policy/try"])
def test_the_policy_pages_fit_a_phone(phone_page: Page, gateway: ConsoleGateway, path: str) -> None:
    sign_in(phone_page, APPROVER, path)
    expect(phone_page.locator("main h1")).to_be_visible()
    assert no_sideways_scroll(phone_page)
