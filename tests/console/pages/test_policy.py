"""The policy pages on a gateway whose console signs in at the real provider (sessions made with
``clearance.console.testing``): the summary, the history with a diff marked for sight and screen readers, and the
"try it" form deciding under the live policy and a draft side by side, with the what-if count."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import AUDIT, POLICY, create_app
from clearance.config import PolicySettings
from clearance.console.pages.policy import _body
from clearance.console.testing import console_session
from clearance.models import AuditRecord, Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.test_policy import ALLOW_ALL, BLOCK_SECRETS, TOKEN
from tests.console.conftest import SignInSetup, app_of, oidc_config

LIVE = BLOCK_SECRETS
ALICE = Identity("alice", email="alice@example.com", groups=("security",))
SAM = Identity("sam", email="sam@example.com", groups=("engineering",))


@dataclass
class Console:
    server: TestServer
    policy_file: Path

    def session(self, identity: Identity) -> tuple[aiohttp.ClientSession, str]:
        cookies, csrf = console_session(app_of(self.server), identity)
        return aiohttp.ClientSession(cookies=cookies), csrf

    async def get(self, path: str, identity: Identity = ALICE) -> tuple[int, str]:
        session, _ = self.session(identity)
        async with session, session.get(self.server.make_url(path)) as response:
            return response.status, await response.text()

    async def try_it(
        self,
        fields: dict[str, str],
        identity: Identity = ALICE,
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        session, token = self.session(identity)
        data = {"csrf": token, **fields} if csrf else fields
        async with session, session.post(self.server.make_url("/console/policy/try"), data=data, headers=headers) as r:
            return r.status, await r.text()


@pytest.fixture
async def console(sign_in_setup: SignInSetup, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Console]:
    """The console on a gateway with ``LIVE`` (a copy in ``tmp_path``), and two requests by sam recorded: one with a
    token (blocked), one without (allowed)."""
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(LIVE)
    config = oidc_config(tmp_path, sign_in_setup, fake_upstream.base_url)
    config = config.model_copy(update={"policy": PolicySettings(file=policy_file, reload_interval=3600)})
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield Console(server, policy_file)
    finally:
        await server.close()


def visible(html: str) -> str:
    """The page's text without its tags, whitespace collapsed (what a reader sees, roughly)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


async def test_when_an_approver_opens_the_policy_then_its_tables_version_and_load_time_show(console: Console) -> None:
    status, html = await console.get("/console/policy")

    holder = app_of(console.server)[POLICY]
    assert status == 200
    assert f'title="{holder.policy.digest}"' in html
    assert f'<time datetime="{holder.loaded.loaded_at}' not in html  # an ISO time, not seconds
    assert "<time datetime=" in html
    text = visible(html)
    for expected in ("Levels, lowest first", "group engineering confidential user", "model llama-internal restricted"):
        assert expected in text
    assert '<th scope="row"><code>no-secrets-at-all</code>' in html
    assert "keep tokens out of prompts" in text and "types: GITHUB_TOKEN" in text


async def test_when_a_caller_without_a_policy_role_opens_the_pages_then_each_refuses(console: Console) -> None:
    for path in ("/console/policy", "/console/policy/history", "/console/policy/try"):
        status, html = await console.get(path, SAM)
        assert status == 403 and "policy_role_required" in html
    status, html = await console.try_it({"kind": "user", "name": "sam", "model": "llama-internal", "text": "x"}, SAM)
    assert status == 403 and "policy_role_required" in html


async def test_when_the_policy_was_reloaded_then_history_lists_both_and_marks_the_diff(console: Console) -> None:
    status, html = await console.get("/console/policy/history")
    assert status == 200 and "Only one version has been loaded" in html

    holder = app_of(console.server)[POLICY]
    first = holder.policy.digest
    console.policy_file.write_text(ALLOW_ALL)
    assert holder.reload() is True
    second = holder.policy.digest
    for _ in range(200):  # the recorder writes from its task: a bounded wait for the second row
        status, html = await console.get("/console/policy/history")
        if f'title="{second}"' in html:
            break

    assert html.index(f'title="{second}"') < html.index(f'title="{first}"')  # newest first
    assert f'<option value="{first}" selected>' in html and f'<option value="{second}" selected>' in html

    status, html = await console.get(f"/console/policy/history?from={first}&to={second}")
    assert status == 200
    assert (
        '<li class="diff-removed"><del><span class="visually-hidden">Removed: </span>'
        '<span class="diff-mark" aria-hidden="true">-</span>  - id: no-secrets-at-all</del></li>'
    ) in html
    assert '<span class="visually-hidden">Added: </span><span class="diff-mark" aria-hidden="true">+</span>' in html
    assert "level: restricted}" in html


async def test_when_the_try_page_opens_then_the_form_has_its_token_the_models_and_the_live_text_as_draft(
    console: Console,
) -> None:
    status, html = await console.get("/console/policy/try")

    assert status == 200
    assert 'name="csrf" value="' in html
    assert "<option selected>llama-internal</option>" in html
    assert "id: no-secrets-at-all" in html  # the draft starts as the live text (escaped in the textarea)
    assert 'aria-live="polite"' in html and 'src="/console/static/policy.js"' in html
    for control in ("trial-name", "trial-email", "trial-groups", "trial-model", "trial-text", "trial-draft"):
        assert f'<label for="{control}">' in html


async def test_when_a_blocked_text_is_tried_with_a_draft_that_allows_it_then_both_decisions_and_the_count_show(
    console: Console,
) -> None:
    fields = {
        "kind": "user",
        "name": "sam@example.com",
        "groups": "engineering",
        "model": "llama-internal",
        "endpoint": "chat.completions",
        "text": f"deploy with {TOKEN}",
        "draft": ALLOW_ALL,
    }
    status, html = await console.try_it(fields)

    assert status == 200, html
    live, draft = html.split('aria-label="Draft"')
    assert '<span class="badge badge-block">block</span>' in live
    assert '<code class="trial-rule">no-secrets-at-all</code>' in live
    assert "Not sent: the request is refused." in visible(live)
    assert '<span class="badge badge-allow">allow</span>' in draft
    assert f'<pre class="trial-sent">deploy with {TOKEN}</pre>' in draft  # the draft lets it through as typed
    assert "No recorded traffic yet." in draft  # nothing recorded on this gateway: the count says why it is empty


async def record(console: Console, n: int, *, token: bool) -> None:
    """A request by sam as the gateway records it: with a token, blocked by the live rule; without, allowed."""
    app = app_of(console.server)
    app[AUDIT].record(
        AuditRecord(
            request_id=f"req-{n}",
            started_at=1_700_000_000.0 + n,
            endpoint="chat.completions",
            method="POST",
            status=403 if token else 200,
            model="llama-internal",
            upstream="fake",
            subject="sam",
            email="sam@example.com",
            groups=("engineering",),
            auth_method="oidc",
            identity_kind="user",
            policy_model="llama-internal",
            decision="block" if token else "allow",
            rule="no-secrets-at-all" if token else "default",
            level="restricted" if token else "public",
            findings={"GITHUB_TOKEN": 1} if token else {},
        )
    )
    await app[AUDIT].flush()


async def test_when_traffic_was_recorded_then_the_what_if_count_shows_how_many_decisions_change(
    console: Console,
) -> None:
    for n, token in enumerate((True, False, True)):
        await record(console, n, token=token)
    fields = {"kind": "user", "name": "sam", "groups": "engineering", "model": "llama-internal", "text": "hello"}

    status, html = await console.try_it({**fields, "draft": ALLOW_ALL})

    assert status == 200
    text = visible(html)
    assert "2 of the 3 recorded decisions among the newest 3 records (at most 1000) would change" in text
    assert "2 block ( no-secrets-at-all ) allow ( default ) 1, 3" in text  # record ids, oldest first


async def test_when_the_script_sends_the_form_then_only_the_result_comes_back(console: Console) -> None:
    fields = {"kind": "user", "name": "sam", "groups": "engineering", "model": "llama-internal", "text": TOKEN}

    status, html = await console.try_it(fields, headers={"X-Console-Fragment": "1"})

    assert status == 200
    assert "<html" not in html and "<form" not in html
    assert '<code class="trial-rule">no-secrets-at-all</code>' in html and 'aria-label="Draft"' not in html


async def test_when_a_forged_post_has_no_csrf_token_then_it_is_refused_and_nothing_is_decided(console: Console) -> None:
    fields = {"kind": "user", "name": "sam", "groups": "engineering", "model": "llama-internal", "text": TOKEN}

    status, html = await console.try_it(fields, csrf=False)

    assert status == 403 and "csrf_failed" in html
    assert "trial-rule" not in html and TOKEN not in html


async def test_when_the_draft_is_invalid_then_every_error_shows_beside_the_form_as_sent(console: Console) -> None:
    draft = "version: 1\nclearances: [{groups: [g], level: secret}]\nrules: [{id: r, action: explode}]\n"
    fields = {"kind": "user", "name": "sam", "model": "llama-internal", "text": "keep me", "draft": draft}

    status, html = await console.try_it(fields)

    assert status == 200  # the form answered, with what is wrong in it
    assert '<div class="error" role="alert">' in html and "The draft policy is invalid:" in html
    assert "<code>clearances.0.level</code>" in html and "<code>rules.0.action</code>" in html
    assert ">keep me</textarea>" in html  # the form keeps what was sent


async def test_when_a_text_is_tried_then_it_is_not_logged(console: Console, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fields = {"kind": "user", "name": "sam", "groups": "engineering", "model": "llama-internal", "text": TOKEN}

    status, _ = await console.try_it({**fields, "draft": ALLOW_ALL})

    assert status == 200 and TOKEN not in caplog.text


def test_when_the_fields_are_read_then_each_caller_kind_becomes_its_identity() -> None:
    base = {"name": " pat ", "email": "", "groups": "a, ,b", "model": "m", "endpoint": "", "label": "", "text": "t"}
    user = _body({**base, "kind": "user", "draft": " "})
    assert user["identity"] == {"groups": ["a", "b"], "user": "pat", "email": None}
    assert (user["endpoint"], user["label"], user["draft"]) == ("chat.completions", None, None)
    assert _body({**base, "kind": "service_account", "draft": ""})["identity"]["service_account"] == "pat"
    anonymous: dict[str, Any] = _body({**base, "kind": "anonymous", "groups": "", "draft": ""})["identity"]
    assert anonymous == {"groups": []}
