"""The sessions pages on a real gateway: the list with its filters, pages and exports; a record's transcript with
its findings marked by type and its story; an auditor's reveal (recorded, CSRF-checked, reason required); and
what a caller without the auditor role may not see.

Most tests run the console without sign-in (no authentication anywhere, loopback: the anonymous caller, whom this
policy makes an auditor); the role tests sign in with the console's session for a given identity."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer

from clearance.admin.records import RECORDS_API
from clearance.admin.reveal import REVEAL_API
from clearance.app import AUDIT, create_app
from clearance.console.testing import console_session
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.test_records import write_record
from tests.admin.test_reveal import originals
from tests.conftest import gateway_config
from tests.console.conftest import app_of

EMAIL = "jane.roe@corp-mail.io"
POLICY = """
version: 1
clearances:
  - anonymous: true
    level: internal
    roles: [user, auditor]
models:
  - name: fake-model
    max_level: restricted
rules:
  - id: mail-as-placeholder
    when: {types: [EMAIL_ADDRESS]}
    action: mask
    mask:
      operators: {EMAIL_ADDRESS: placeholder}
      restore: true
    record: full
defaults:
  record: metadata
"""
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

    assert status == 400
    assert "a reveal needs a reason" in page and EMAIL not in page
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
