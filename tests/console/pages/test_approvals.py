"""The approvals inbox and an approval's page, on a gateway whose console signs in at the real OpenID provider
(sessions made directly: ``clearance.console.testing``): what each caller sees and may do, the forms, the live
lists, and the refusals (no CSRF token, no role, not theirs to see) that leave the store unchanged."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import APPROVALS
from clearance.approvals.store import ApprovalStore
from clearance.console.access import CONSOLE
from clearance.console.session import COOKIE, ConsoleSession
from clearance.console.testing import console_session
from clearance.models import Identity
from tests.admin.gateway import People
from tests.console.conftest import app_of

ALICE = Identity("alice", email="alice@example.com", groups=("security",))  # approver of security's
BOB = Identity("bob", email="bob@example.com", groups=("security",))
SAM = Identity("sam", email="sam@example.com", groups=("engineering",))  # user: the requester
EVE = Identity("eve", email="eve@example.com", groups=("engineering",))  # user: a stranger to sam's requests
AUDREY = Identity("audrey", email="audrey@example.com", groups=("audit",))  # auditor: reads, decides nothing
CARD = "4111 1111 1111 1111"
BOUND = 20.0


@dataclass
class Browser:
    """One signed-in console user: their cookies and their session's CSRF token."""

    server: TestServer
    cookies: dict[str, str]
    csrf: str

    @classmethod
    def of(cls, server: TestServer, identity: Identity) -> Browser:
        cookies, csrf = console_session(app_of(server), identity)
        return cls(server, cookies, csrf)

    async def get(self, path: str) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession(cookies=self.cookies) as session,
            session.get(self.server.make_url(path), allow_redirects=False) as response,
        ):
            return response.status, await response.text()

    async def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> tuple[int, str, str]:
        data = {"csrf": self.csrf, **form} if csrf else form
        async with (
            aiohttp.ClientSession(cookies=self.cookies) as session,
            session.post(self.server.make_url(path), data=data, allow_redirects=False) as response,
        ):
            return response.status, response.headers.get("Location", ""), await response.text()


@pytest.fixture
def people(signed_gateway: TestServer) -> People:
    store: ApprovalStore = app_of(signed_gateway)[APPROVALS]
    return People(store)


async def page_of(server: TestServer, who: Identity, path: str) -> str:
    """The page at ``path`` as ``who`` sees it (it must be served: 200)."""
    status, page = await Browser.of(server, who).get(path)
    assert status == 200
    return page


def forms(page: str) -> set[str]:
    """The approval forms of a page (the layout's sign-out form left out)."""
    return set(re.findall(r'<form method="post" action="(/console/approvals/[^"]+)"', page))


async def test_when_an_approver_opens_the_inbox_then_what_they_may_decide_shows_with_what_they_need(
    signed_gateway: TestServer, people: People
) -> None:
    theirs = people.approval("sam", needed=2)
    for_ops = people.approval("sam", approvers=("ops",))
    page = await page_of(signed_gateway, ALICE, "/console/approvals")
    to_decide = page.split('id="to-decide"')[1].split('id="mine"')[0]
    assert f'href="/console/approvals/{theirs.id}"' in to_decide
    assert for_ops.id not in page  # not alice's to see
    for fact in ("sam", "llama", "hotfix", "GITHUB_TOKEN: 1", "EMAIL_ADDRESS: 2", "secrets-need-approval",
                 "matched_rule, restricted_type", "0 of 2 by security", "deploy with [GITHUB_TOKEN]"):  # fmt: skip
        assert fact in to_decide, fact
    assert "You have no pending request." in page
    assert 'aria-live="polite"' in page and 'src="/console/static/approvals.js"' in page


async def test_when_an_approver_gave_their_approval_then_it_leaves_their_list_to_decide_not_the_others(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam", needed=2)
    assert (await Browser.of(signed_gateway, ALICE).post(f"/console/approvals/{held.id}/approve", {}))[0] == 303
    alices = (await page_of(signed_gateway, ALICE, "/console/approvals")).split('id="mine"')[0]
    bobs = (await page_of(signed_gateway, BOB, "/console/approvals")).split('id="mine"')[0]
    assert held.id not in alices and "Nothing waits for your decision." in alices
    assert f'href="/console/approvals/{held.id}"' in bobs and "1 of 2 by security" in bobs


async def test_when_a_requester_opens_the_inbox_then_their_own_pending_requests_show_with_cancel(
    signed_gateway: TestServer, people: People
) -> None:
    mine = people.approval("sam")
    page = await page_of(signed_gateway, SAM, "/console/approvals")
    assert forms(page) == {f"/console/approvals/{mine.id}/cancel"}
    assert "You do not have the approver role" in page
    assert mine.id in page.split('id="mine"')[1]


async def test_when_the_lists_are_fetched_then_they_come_as_a_fragment_without_the_layout(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam")
    fragment = await page_of(signed_gateway, ALICE, "/console/approvals/list")
    assert held.id in fragment
    assert "<html" not in fragment and "<nav" not in fragment


async def test_when_an_approver_opens_the_deep_link_then_the_whole_approval_and_the_decision_forms_show(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam", reason_from="approver")
    page = await page_of(signed_gateway, ALICE, f"/console/approvals/{held.id}")
    assert forms(page) == {f"/console/approvals/{held.id}/approve", f"/console/approvals/{held.id}/deny"}
    assert page.count('name="reason" maxlength="500" rows="3" required') == 2  # the rule asks approvers why
    assert "(required by the rule)" in page
    assert "History" in page and "<th scope=" in page
    assert 'name="csrf" value="' in page


@pytest.mark.parametrize("who", [SAM, AUDREY])
async def test_when_someone_without_the_approvers_rights_opens_the_deep_link_then_no_decision_form_shows(
    signed_gateway: TestServer, people: People, who: Identity
) -> None:
    held = people.approval("sam")
    page = await page_of(signed_gateway, who, f"/console/approvals/{held.id}")
    assert "/approve" not in page and "/deny" not in page and ">Approve<" not in page
    expected = {f"/console/approvals/{held.id}/cancel"} if who is SAM else set()
    assert forms(page) == expected


async def test_when_a_stranger_opens_the_deep_link_then_it_is_the_404_of_an_unknown_approval(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam")
    eve = Browser.of(signed_gateway, EVE)
    assert (await eve.get(f"/console/approvals/{held.id}"))[0] == 404
    unknown_status, unknown = await eve.get(f"/console/approvals/apr_{'x' * 32}")
    status, page = await eve.get(f"/console/approvals/{held.id}")
    assert (status, page.replace(held.id, "")) == (unknown_status, unknown.replace("apr_" + "x" * 32, ""))


async def test_when_an_approver_approves_with_a_reason_then_it_is_approved_and_the_reason_redacted(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam")
    status, location, _ = await Browser.of(signed_gateway, ALICE).post(
        f"/console/approvals/{held.id}/approve", {"reason": f"checked with card {CARD}"}
    )
    assert (status, location) == (303, f"/console/approvals/{held.id}")
    stored = people.store.get(held.id)
    assert (stored.state, stored.approved_by, stored.history[-1].reason) == (
        "approved", ("alice",), "checked with card [CREDIT_CARD]",
    )  # fmt: skip


async def test_when_a_post_comes_without_the_csrf_token_then_it_is_refused_and_nothing_changes(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam")
    alice = Browser.of(signed_gateway, ALICE)
    for action in ("approve", "deny"):
        status, _, page = await alice.post(f"/console/approvals/{held.id}/{action}", {"reason": "forged"}, csrf=False)
        assert status == 403 and "csrf_failed" in page
        status, _, page = await alice.post(
            f"/console/approvals/{held.id}/{action}", {"reason": "forged", "csrf": "x" * 43}, csrf=False
        )
        assert status == 403 and "csrf_failed" in page
    other = Browser.of(signed_gateway, BOB)  # another session's token is not this one's
    status, _, _ = await alice.post(f"/console/approvals/{held.id}/approve", {"csrf": other.csrf}, csrf=False)
    assert status == 403
    assert people.store.get(held.id).state == "pending"
    assert len(people.store.get(held.id).history) == 1


@pytest.mark.parametrize(("who", "status", "code"), [(AUDREY, 403, "approver_role_required"), (SAM, 403,
                         "approver_role_required"), (EVE, 403, "approver_role_required")])  # fmt: skip
async def test_when_a_post_with_a_valid_token_comes_from_someone_without_the_role_then_it_is_refused(
    signed_gateway: TestServer, people: People, who: Identity, status: int, code: str
) -> None:
    held = people.approval("sam")
    for action in ("approve", "deny"):
        answer, _, page = await Browser.of(signed_gateway, who).post(
            f"/console/approvals/{held.id}/{action}", {"reason": "ok"}
        )
        assert (answer, code in page) == (status, True)
    assert people.store.get(held.id).state == "pending"
    assert len(people.store.get(held.id).history) == 1


async def test_when_the_rule_asks_for_a_reason_and_none_is_given_then_it_is_a_400_page_and_still_pending(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam", reason_from="approver")
    status, _, page = await Browser.of(signed_gateway, ALICE).post(f"/console/approvals/{held.id}/deny", {})
    assert status == 400 and "reason_required" in page
    assert people.store.get(held.id).state == "pending"


async def test_when_the_requester_cancels_then_it_is_cancelled_and_an_approver_may_not(
    signed_gateway: TestServer, people: People
) -> None:
    held = people.approval("sam")
    status, _, page = await Browser.of(signed_gateway, ALICE).post(f"/console/approvals/{held.id}/cancel", {})
    assert status == 403 and "not_the_requester" in page
    status, location, _ = await Browser.of(signed_gateway, SAM).post(
        f"/console/approvals/{held.id}/cancel", {"reason": "not needed"}
    )
    assert (status, location, people.store.get(held.id).state) == (303, f"/console/approvals/{held.id}", "cancelled")


async def test_when_an_auditor_acknowledges_a_break_glass_then_its_review_is_done(
    signed_gateway: TestServer, people: People
) -> None:
    glass = people.break_glass("olga")
    audrey = Browser.of(signed_gateway, AUDREY)
    status, page = await audrey.get("/console/approvals")
    assert status == 200 and glass.id in page.split('id="to-review"')[1]
    status, page = await audrey.get(f"/console/approvals/{glass.id}")
    assert forms(page) == {f"/console/approvals/{glass.id}/acknowledge"}
    status, _, _ = await audrey.post(f"/console/approvals/{glass.id}/acknowledge", {"reason": "INC-7 ok"})
    assert status == 303
    assert people.store.get(glass.id).review == "acknowledged"


# -- live: the event stream under the console's session --------------------------------------------------------


@pytest.fixture
async def alice_events(signed_gateway: TestServer) -> AsyncIterator[aiohttp.ClientResponse]:
    browser = Browser.of(signed_gateway, ALICE)
    async with (
        aiohttp.ClientSession(cookies=browser.cookies) as session,
        session.get(
            signed_gateway.make_url("/console/approvals/events"), headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        assert (response.status, response.content_type) == (200, "text/event-stream")
        async with asyncio.timeout(BOUND):
            assert (await response.content.readline()).startswith(b"retry:")
        yield response


async def next_event(response: aiohttp.ClientResponse) -> tuple[str, dict[str, Any]]:
    name = ""
    async with asyncio.timeout(BOUND):
        for _ in range(100):
            line = (await response.content.readline()).decode().rstrip("\n")
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                return name, orjson.loads(line.removeprefix("data: "))
    raise AssertionError("no event")


async def test_when_a_request_is_held_then_the_console_stream_tells_the_approver(
    signed_gateway: TestServer, people: People, alice_events: aiohttp.ClientResponse
) -> None:
    held = people.approval("sam")
    name, data = await next_event(alice_events)
    assert (name, data["id"], data["preview"]) == ("requested", held.id, "deploy with [GITHUB_TOKEN]")


async def test_when_the_stream_is_asked_without_a_session_then_it_is_a_401_not_a_redirect(
    signed_gateway: TestServer,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            signed_gateway.make_url("/console/approvals/events"),
            headers={"Accept": "text/event-stream"},
            allow_redirects=False,
        ) as response,
    ):
        assert response.status == 401


# -- what the page's script asks by itself is not activity: the session still ends when nobody uses it --------


def aged_session(server: TestServer, identity: Identity, idle_left: float) -> tuple[dict[str, str], ConsoleSession]:
    """Cookies of a session last seen so long ago that its idle timeout comes in ``idle_left`` seconds."""
    codec = app_of(server)[CONSOLE].codec
    fresh = codec.new(identity)
    seen = time.time() - codec.idle_timeout + idle_left
    session = ConsoleSession(fresh.sid, identity, seen, seen)
    return {COOKIE: codec.dump(session)}, session


def cookie_sent_back(server: TestServer, response: aiohttp.ClientResponse) -> ConsoleSession | None:
    morsel = response.cookies.get(COOKIE)
    assert morsel is not None
    return app_of(server)[CONSOLE].codec.load(morsel.value)


async def test_when_the_script_refetches_the_lists_then_the_session_is_not_refreshed_but_a_page_view_is(
    signed_gateway: TestServer, people: People
) -> None:
    cookies, session = aged_session(signed_gateway, ALICE, idle_left=600)
    async with aiohttp.ClientSession(cookies=cookies) as client:
        async with client.get(signed_gateway.make_url("/console/approvals/list")) as response:
            assert response.status == 200
            kept = cookie_sent_back(signed_gateway, response)
            assert kept is not None and kept.seen_at == session.seen_at
        async with client.get(signed_gateway.make_url("/console/approvals")) as response:
            assert response.status == 200
            refreshed = cookie_sent_back(signed_gateway, response)
            assert refreshed is not None and refreshed.seen_at > session.seen_at


async def test_when_the_session_would_end_then_the_console_stream_ends_with_it(
    signed_gateway: TestServer, people: People
) -> None:
    cookies, _ = aged_session(signed_gateway, ALICE, idle_left=0.5)
    async with (
        aiohttp.ClientSession(cookies=cookies) as client,
        client.get(
            signed_gateway.make_url("/console/approvals/events"), headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        assert response.status == 200
        async with asyncio.timeout(BOUND):
            rest = await response.content.read()  # to its end: the stream closed itself
        assert rest.startswith(b"retry:") and b"event:" not in rest
    async with (
        aiohttp.ClientSession(cookies=cookies) as client,
        client.get(
            signed_gateway.make_url("/console/approvals/events"), headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        assert response.status == 401  # and the session has ended: the browser's reconnection is refused


async def test_when_the_session_signs_out_then_its_open_stream_ends_and_says_nothing_more(
    signed_gateway: TestServer, people: People
) -> None:
    # a stream opened with a copy of the cookie (or left open in another tab) kept sending every approval the
    # user may see (requesters' emails, reasons, previews) after the sign-out, until the idle timeout
    browser = Browser.of(signed_gateway, ALICE)
    async with (
        aiohttp.ClientSession(cookies=browser.cookies) as client,
        client.get(
            signed_gateway.make_url("/console/approvals/events"), headers={"Accept": "text/event-stream"}
        ) as response,
    ):
        assert response.status == 200
        async with asyncio.timeout(BOUND):
            assert (await response.content.readline()).startswith(b"retry:")
        status, _, _ = await browser.post("/console/signout", {})
        assert status == 303
        held = people.approval("sam")
        async with asyncio.timeout(BOUND):
            rest = await response.content.read()  # to its end: the stream closed itself
        assert held.id.encode() not in rest and b"event:" not in rest
