"""The sessions pages on a real gateway: the list with its filters, pages and exports; a record's transcript with
its findings marked by type and its story; an auditor's reveal (recorded, CSRF-checked, reason required); and
what a caller without the auditor role may not see.

Most tests run the console without sign-in (no authentication anywhere, loopback: the anonymous caller, whom this
policy makes an auditor); the role tests sign in with the console's session for a given identity."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer

from clearance.admin.records import RECORDS_API
from clearance.admin.reveal import REVEAL_API
from clearance.app import AUDIT, create_app
from clearance.audit.originals import OriginalsConfig
from clearance.auth.config import ApiKeysConfig
from clearance.auth.keys import ApiKeyStore
from clearance.console.testing import console_session
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.test_records import write_record
from tests.admin.test_reveal import originals
from tests.conftest import gateway_config
from tests.console.conftest import ACCOUNTS, SignInSetup, app_of, console_client, oidc_config
from tests.oidc.harness import Browser, OidcProvider, ensure_node_modules, free_port, rsa_jwk

EMAIL = "jane.roe@corp-mail.io"


def policy_text(clearances: str, *, model: str, record: str) -> str:
    """A policy with these clearances: an e-mail goes to ``model`` as a placeholder (restored in the answer), and
    such an exchange is recorded in full (originals sealed); any other in the ``record`` mode."""
    return f"""
version: 1
clearances:
{clearances}
models:
  - name: {model}
    max_level: restricted
rules:
  - id: mail-as-placeholder
    when: {{types: [EMAIL_ADDRESS]}}
    action: mask
    mask:
      operators: {{EMAIL_ADDRESS: placeholder}}
      restore: true
    record: full
defaults:
  record: {record}
"""


POLICY = policy_text(
    "  - anonymous: true\n    level: internal\n    roles: [user, auditor]", model="fake-model", record="metadata"
)
"""The anonymous caller is an auditor (the console's no-auth mode); an e-mail goes to the model as a placeholder,
and such exchanges are recorded in full, originals sealed."""


@dataclass
class Console:
    server: TestServer
    cookies: dict[str, str]
    csrf: str

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    async def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        async with (
            aiohttp.ClientSession(cookies=self.cookies) as session,
            session.get(self.url + path, allow_redirects=False) as response,
        ):
            return response.status, await response.text(), dict(response.headers)

    async def post(self, path: str, form: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        async with (
            aiohttp.ClientSession(cookies=self.cookies) as session,
            session.post(self.url + path, data=form, allow_redirects=False) as response,
        ):
            return response.status, await response.text(), dict(response.headers)

    async def ask(self, content: str) -> None:
        async with openai.AsyncOpenAI(base_url=self.url + "/v1", api_key="unused", max_retries=0) as client:
            await client.chat.completions.create(model="fake-model", messages=[{"role": "user", "content": content}])
        await app_of(self.server)[AUDIT].flush()

    async def newest(self) -> int:
        status, page, _ = await self.get("/console/sessions")
        assert status == 200
        return record_links(page)[0]


def record_links(page: str) -> list[int]:
    """The records a list page links to, in its order."""
    return [int(n) for n in re.findall(r'href="/console/sessions/(\d+)"', page)]


@pytest.fixture
async def console(fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Console]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    fake_upstream.behaviour.reply = "Noted <EMAIL_ADDRESS_1>."
    config = gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
        policy={"file": str(policy)},
        audit={"originals": originals(tmp_path)},
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    cookies, csrf = console_session(app_of(server), Identity.anonymous())
    yield Console(server, cookies, csrf)
    await server.close()


async def test_when_nothing_was_recorded_then_the_list_says_there_is_no_traffic_yet(console: Console) -> None:
    status, page, headers = await console.get("/console/sessions")

    assert status == 200
    assert "No exchanges recorded yet." in page
    assert headers["Cache-Control"] == "no-store"
    assert 'href="/console/sessions/export?format=csv"' in page


async def test_when_records_are_filtered_then_the_form_keeps_the_filter_and_exports_the_same_set(
    console: Console,
) -> None:
    await console.ask(f"mail {EMAIL} please")
    await console.ask("nothing to see")

    _, mailed, _ = await console.get("/console/sessions?type=EMAIL_ADDRESS&model=&decision=mask")
    _, none, _ = await console.get("/console/sessions?type=CREDIT_CARD")

    assert len(record_links(mailed)) == 1
    assert 'value="EMAIL_ADDRESS"' in mailed and '<option value="mask" selected>' in mailed
    assert 'href="/console/sessions/export?decision=mask&amp;type=EMAIL_ADDRESS&amp;format=csv"' in mailed
    assert "No record matches these filters." in none


async def test_when_there_are_more_records_than_a_page_then_older_pages_follow_the_cursor(console: Console) -> None:
    for n in range(3):
        await console.ask(f"question {n}")
    first = await app_of(console.server)[RECORDS_API].list(Identity.anonymous(), {"limit": "2"})
    assert first.next_cursor is not None

    status, page, _ = await console.get(f"/console/sessions?cursor={first.next_cursor}")

    assert status == 200
    assert "← Newest" in page
    assert len(record_links(page)) == 1  # the oldest
    assert "Older →" not in page


async def test_when_the_console_exports_then_it_is_the_csv_of_the_filtered_set(console: Console) -> None:
    await console.ask(f"mail {EMAIL}")
    await console.ask("plain")

    status, body, headers = await console.get("/console/sessions/export?format=csv&type=EMAIL_ADDRESS&status=")

    rows = list(csv.DictReader(io.StringIO(body)))
    assert status == 200
    assert headers["Content-Disposition"] == 'attachment; filename="clearance-records.csv"'
    assert [(r["decision"], r["findings"]) for r in rows] == [("mask", '{"EMAIL_ADDRESS":1}')]
    assert EMAIL not in body


async def test_when_a_record_is_opened_then_its_findings_are_marked_by_type_and_its_story_is_told(
    console: Console,
) -> None:
    await console.ask(f"mail {EMAIL} please")
    record_id = await console.newest()

    status, page, _ = await console.get(f"/console/sessions/{record_id}")

    assert status == 200
    assert EMAIL not in page
    assert (
        '<mark class="finding type-email_address slot-0" data-type="EMAIL_ADDRESS">&lt;EMAIL_ADDRESS_1&gt;'
        '<span class="visually-hidden"> (EMAIL_ADDRESS found)</span></mark>'
    ) in page
    assert "mail-as-placeholder" in page
    assert "No approval: the policy decided <strong>mask</strong> at once." in page
    assert "leaf 0 of the audit tree" in page
    assert "Integrity not configured" in page
    assert "Nobody has revealed this record&#39;s originals." in page


async def test_when_a_record_kept_metadata_only_then_the_transcript_says_why_it_is_empty(console: Console) -> None:
    await console.ask("nothing sensitive")
    record_id = await console.newest()

    _, page, _ = await console.get(f"/console/sessions/{record_id}")

    assert "This record was kept as metadata only." in page
    assert "Its record mode is metadata" in page


async def test_when_an_auditor_reveals_with_a_reason_then_the_originals_show_and_the_reveal_is_recorded(
    console: Console,
) -> None:
    await console.ask(f"mail {EMAIL} please")
    record_id = await console.newest()

    status, page, headers = await console.post(
        f"/console/sessions/{record_id}/reveal", {"csrf": console.csrf, "reason": "case INC-9"}
    )
    reveals = await app_of(console.server)[REVEAL_API].reveals(Identity.anonymous(), str(record_id))

    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    assert EMAIL in page.split('id="original-request"')[1]
    assert [(r.subject, r.reason) for r in reveals.data] == [("anonymous", "case INC-9")]
    assert "case INC-9" in page.split("Earlier reveals")[1]


async def test_when_a_reveal_is_forged_without_the_csrf_token_then_it_is_refused_and_nothing_is_recorded(
    console: Console,
) -> None:
    await console.ask(f"mail {EMAIL} please")
    record_id = await console.newest()

    status, page, _ = await console.post(f"/console/sessions/{record_id}/reveal", {"reason": "forged"})
    wrong, _, _ = await console.post(f"/console/sessions/{record_id}/reveal", {"csrf": "x" * 40, "reason": "forged"})
    reveals = await app_of(console.server)[REVEAL_API].reveals(Identity.anonymous(), str(record_id))

    assert (status, wrong) == (403, 403)
    assert "csrf_failed" in page and EMAIL not in page
    assert reveals.data == []


async def test_when_a_reveal_has_no_reason_then_it_asks_for_one_and_nothing_is_recorded(console: Console) -> None:
    await console.ask(f"mail {EMAIL} please")
    record_id = await console.newest()

    status, page, _ = await console.post(f"/console/sessions/{record_id}/reveal", {"csrf": console.csrf, "reason": " "})
    reveals = await app_of(console.server)[REVEAL_API].reveals(Identity.anonymous(), str(record_id))

    assert status == 200  # answered beside the form, as every console form's own mistake
    assert 'role="alert"' in page and "a reveal needs a reason" in page and "reason_required" in page
    assert EMAIL not in page
    assert reveals.data == []


async def test_when_someone_without_the_auditor_role_opens_sessions_then_they_see_only_their_own(
    signed_gateway: TestServer,
) -> None:
    await write_record(app_of(signed_gateway), "sam", decision="allow")
    await write_record(app_of(signed_gateway), "alice", decision="allow")
    cookies, _ = console_session(app_of(signed_gateway), Identity("sam", groups=("engineering",)))
    url = str(signed_gateway.make_url("")).rstrip("/")

    async with aiohttp.ClientSession(cookies=cookies) as session:
        async with session.get(url + "/console/sessions", allow_redirects=False) as every:
            assert (every.status, every.headers["Location"]) == (302, "/console/sessions/mine")
        async with session.get(url + "/console/sessions/mine") as mine:
            page = await mine.text()
        ids = record_links(page)
        assert len(ids) == 1
        async with session.get(url + f"/console/sessions/{ids[0] + 1}") as other:
            assert other.status == 404
            assert "record_not_found" in await other.text()
        async with session.get(url + "/console/sessions/export?format=json") as export:
            assert export.status == 403
        async with session.get(url + f"/console/sessions/{ids[0]}") as own:
            text = await own.text()
            assert own.status == 200
            assert "Reveal the originals" not in text


AUDIT_ACCOUNTS: dict[str, Any] = {
    "audrey": {
        "token_claims": {"groups": ["audit"], "email": "audrey@example.com"},
        "id_token_claims": {"email": "audrey@example.com", "name": "Audrey Auditor", "groups": ["audit"]},
    },
    "sam": ACCOUNTS["sam"],
}
FLOW_POLICY = policy_text(
    "  - groups: [engineering]\n    level: internal\n    roles: [user]\n"
    "  - groups: [audit]\n    level: internal\n    roles: [user, auditor]",
    model="llama-internal",
    record="full",
)


@dataclass
class Flow:
    """A gateway whose console signs in at a real provider (auditor audrey, engineer sam), originals sealed; an API
    key each for the model and admin calls."""

    server: TestServer
    setup: SignInSetup
    keys: dict[str, str]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


@pytest.fixture(scope="module")
def audit_sign_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    ensure_node_modules()
    port = free_port()
    idp = OidcProvider(
        tmp_path_factory.mktemp("sessions-idp"),
        keys=[rsa_jwk("rsa-1")],
        accounts=AUDIT_ACCOUNTS,
        clients=[console_client(f"http://127.0.0.1:{port}/console/callback")],
    )
    idp.start()
    yield SignInSetup(idp, port)
    idp.stop()


@pytest.fixture
async def flow(audit_sign_in: SignInSetup, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Flow]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(FLOW_POLICY)
    fake_upstream.behaviour.reply = "Noted <EMAIL_ADDRESS_1>."
    config = oidc_config(tmp_path, audit_sign_in, fake_upstream.base_url)
    config = config.model_copy(  # the console's test gateway, with this policy, API keys and originals
        update={
            "policy": config.policy.model_copy(update={"file": policy}),
            "auth": config.auth.model_copy(update={"api_keys": ApiKeysConfig(enabled=True)}),
            "audit": config.audit.model_copy(update={"originals": OriginalsConfig.model_validate(originals(tmp_path))}),
        }
    )
    server = TestServer(create_app(config), host="127.0.0.1", port=audit_sign_in.port)
    await server.start_server()
    store = ApiKeyStore(config.database.url)
    try:
        keys = {
            who: store.create(owner=who, groups=groups, expires_at=None)[1]
            for who, groups in (("sam", ["engineering"]), ("audrey", ["audit"]))
        }
    finally:
        store.close()
    yield Flow(server, audit_sign_in, keys)
    await server.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', page)
    assert found is not None
    return found.group(1)


async def test_when_an_auditor_signs_in_filters_opens_a_transcript_and_reveals_then_it_is_all_recorded(
    flow: Flow,
) -> None:
    async with openai.AsyncOpenAI(base_url=flow.url("/v1"), api_key=flow.keys["sam"], max_retries=0) as client:
        await client.chat.completions.create(
            model="llama-internal", messages=[{"role": "user", "content": f"please mail {EMAIL}"}]
        )
        await client.chat.completions.create(model="llama-internal", messages=[{"role": "user", "content": "hello"}])
    await app_of(flow.server)[AUDIT].flush()
    auditor = Browser(flow.setup.provider.issuer, "audrey")
    try:
        listed = await auditor.authorize(flow.url("/console/sessions?type=EMAIL_ADDRESS"))  # the deep link kept
        (record_id,) = record_links(listed)
        async with auditor.session.get(flow.url(f"/console/sessions/{record_id}")) as opened:
            transcript = await opened.text()
        async with auditor.session.post(
            flow.url(f"/console/sessions/{record_id}/reveal"),
            data={"csrf": _csrf(transcript), "reason": "complaint INC-12"},
        ) as revealed:
            shown = await revealed.text()
            no_store = revealed.headers["Cache-Control"]
    finally:
        await auditor.close()
    headers = {"Authorization": f"Bearer {flow.keys['audrey']}"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(flow.url(f"/admin/v1/records/{record_id}/reveals"), headers=headers) as listing,
    ):
        reveals = (await listing.json())["data"]

    assert 'data-signed-in="audrey"' in listed and "sam" in listed
    assert 'data-type="EMAIL_ADDRESS">&lt;EMAIL_ADDRESS_1&gt;' in transcript and EMAIL not in transcript
    assert f"please mail {EMAIL}" in shown.split('id="original-request"')[1] and no_store == "no-store"
    assert [(r["subject"], r["reason"]) for r in reveals] == [("audrey", "complaint INC-12")]


async def test_when_an_engineer_signs_in_then_only_their_own_sessions_show_and_others_are_404(flow: Flow) -> None:
    await write_record(app_of(flow.server), "audrey", decision="allow")
    await write_record(app_of(flow.server), "sam", decision="allow")
    engineer = Browser(flow.setup.provider.issuer, "sam")
    try:
        mine = await engineer.authorize(flow.url("/console/sessions"))  # sent on to their own
        (own,) = record_links(mine)
        async with engineer.session.get(flow.url(f"/console/sessions/{own - 1}")) as other:
            refused = (other.status, await other.text())
        async with engineer.session.post(
            flow.url(f"/console/sessions/{own - 1}/reveal"), data={"csrf": _csrf(mine), "reason": "curious"}
        ) as reveal:
            forbidden = reveal.status
    finally:
        await engineer.close()

    assert "My sessions" in mine
    assert refused[0] == 404 and "record_not_found" in refused[1]
    assert forbidden == 403
