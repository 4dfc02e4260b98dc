"""The harness itself: the accounts' roles, the gateway with its model double, the browser and its watch."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from clearance.config import PolicySettings
from clearance.models import Identity
from clearance.policy import PolicyHolder
from tests.e2e.console.conftest import OpenAIFactory, Screenshot
from tests.e2e.console.harness import (
    ACCOUNTS,
    AUDITOR,
    POLICY,
    SCREENSHOTS,
    USER,
    BrowserWatch,
    ConsoleGateway,
    sign_in,
)


def test_the_policy_gives_each_account_the_roles_it_stands_for() -> None:
    policy = PolicyHolder.from_settings(PolicySettings(file=POLICY)).policy
    got = {a.login: policy.roles(Identity(a.login, groups=a.groups)) for a in ACCOUNTS}
    assert got == {a.login: a.roles for a in ACCOUNTS}
    assert {role for a in ACCOUNTS for role in a.roles} == {"user", "approver", "auditor", "admin"}
    assert [a.login for a in ACCOUNTS if not a.roles] == ["nobody"]
    assert len({a.login for a in ACCOUNTS}) == len(ACCOUNTS)


def test_an_api_key_reaches_the_model_double_as_its_owner(
    gateway: ConsoleGateway, openai_client: OpenAIFactory
) -> None:
    sent = len(gateway.upstream.received)
    reply = openai_client(gateway.api_key(USER)).chat.completions.create(
        model="llama-internal", messages=[{"role": "user", "content": "harness check 41"}]
    )
    assert reply.choices[0].message.content == gateway.upstream.behaviour.reply
    [received] = gateway.upstream.received[sent:]
    assert "harness check 41" in str(received.body)
    newest = gateway.records()[0]
    assert newest["subject"] == USER.login


def test_the_watch_reports_a_csp_violation_and_an_uncaught_error_on_a_console_page(
    page: Page, browser_watch: BrowserWatch
) -> None:
    sign_in(page, AUDITOR)
    assert browser_watch.unexpected() == []
    # An inline script, as a careless template would add one: the CSP refuses it and the browser says so.
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; "
        "document.body.append(s); }"
    )
    # An error no script catches: thrown by a timer, which fires before the one that ends this call.
    page.evaluate(
        "() => new Promise((done) => { setTimeout(() => { throw new Error('e2e-probe'); }); setTimeout(done); })"
    )
    assert page.evaluate("window.ran") is None
    problems = browser_watch.unexpected()
    assert any("Content Security Policy" in p for p in problems), problems
    assert any("uncaught" in p and "e2e-probe" in p for p in problems), problems
    browser_watch.allow("Content Security Policy|e2e-probe")
    assert browser_watch.unexpected() == []


def test_a_screenshot_goes_to_the_test_folder_unless_asked_for_the_docs(
    page: Page, phone_page: Page, screenshot: Screenshot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLEARANCE_SCREENSHOTS", raising=False)
    sign_in(page, USER)
    sign_in(phone_page, USER)
    assert screenshot(page, "e2e-probe") == tmp_path / "e2e-probe-desktop.png"
    assert screenshot(phone_page, "e2e-probe") == tmp_path / "e2e-probe-phone.png"
    assert (tmp_path / "e2e-probe-phone.png").read_bytes().startswith(b"\x89PNG")
    assert not (SCREENSHOTS / "e2e-probe-desktop.png").exists()
