"""The approvals admin API on a real gateway (the example policy that asks security to approve engineers' secrets,
API keys as credentials): who sees what, paging, deciding N of M, cancelling, and every refusal with its code."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.admin.approvals import (
    APPROVALS_API,
    MAX_STREAMS_PER_CALLER,
    RETRY_MILLISECONDS,
    ApprovalsApi,
    change_of,
    decode_cursor,
    encode_cursor,
)
from clearance.admin.resources import ApprovalResource
from clearance.app import NOTIFICATIONS, create_app
from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.approvals.lifecycle import (
    acknowledge,
    approve,
    break_glass,
    cancel,
    deny,
    escalate,
    expire,
    use,
)
from clearance.approvals.model import MAX_REASON_CHARS
from clearance.exceptions import InvalidRequest, PermissionDenied
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_config
from tests.approvals.test_store import SAM, T0, request

API = "/admin/v1/approvals"


@dataclass
class Admin:
    url: str
    people: People

    async def call(
        self, method: str, path: str, who: str | None = None, *, json: Any = None, data: bytes | None = None
    ) -> tuple[int, dict[str, Any]]:
        headers = self.people.headers(who) if who else {}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, headers=headers, json=json, data=data) as response,
        ):
            return response.status, await response.json()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def admin(request: pytest.FixtureRequest, tmp_path: Path, fake_upstream: FakeUpstream) -> AsyncIterator[Admin]:
    """The gateway on SQLite, and on the real PostgreSQL (a schema of its own, dropped afterwards)."""
    database_url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    config = admin_config(tmp_path, fake_upstream.base_url, database_url)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        yield Admin(str(server.make_url("")).rstrip("/"), People.enrol(server.app, config.database.url))
    finally:
        await server.close()


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


async def test_when_an_approver_lists_pending_then_they_see_what_their_groups_decide_and_their_own(
    admin: Admin,
) -> None:
    for_security = admin.people.approval("sam")
    for_ops = admin.people.approval("sam", approvers=("ops",))
    alices_own = admin.people.approval("alice", approvers=("ops",))
    status, body = await admin.call("GET", API + "?state=pending", "alice")
    assert status == 200
    assert set(ids(body)) == {for_security.id, alices_own.id}
    assert for_ops.id not in ids(body)


async def test_when_a_requester_lists_then_they_see_their_own_requests_only(admin: Admin) -> None:
    sams = admin.people.approval("sam")
    admin.people.approval("eve")
    status, body = await admin.call("GET", API, "sam")
    assert (status, ids(body), body["next_cursor"]) == (200, [sams.id], None)


async def test_when_the_list_filters_by_state_then_only_that_state_comes(admin: Admin) -> None:
    pending = admin.people.approval()
    denied = admin.people.approval()
    assert (await admin.call("POST", f"{API}/{denied.id}/deny", "alice", json={"reason": "no"}))[0] == 200
    assert ids((await admin.call("GET", API + "?state=pending", "alice"))[1]) == [pending.id]
    assert ids((await admin.call("GET", API + "?state=denied", "alice"))[1]) == [denied.id]


async def test_when_the_list_is_paged_then_every_approval_comes_once_in_order(admin: Admin) -> None:
    made = [admin.people.approval(created_at=1_000.0 + n // 2) for n in range(7)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = f"?limit=3&cursor={cursor}" if cursor else "?limit=3"
        status, body = await admin.call("GET", API + query, "alice")
        assert status == 200
        assert len(body["data"]) <= 3
        seen += ids(body)
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(a.id for a in made)
    assert len(seen) == len(set(seen))
    newest_first = sorted(made, key=lambda a: (-a.created_at, a.id))
    assert seen == [a.id for a in newest_first]


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x", "?state=asleep", "?cursor=%%%", "?cursor=e30"])
async def test_when_the_list_query_is_wrong_then_it_is_a_400(admin: Admin, query: str) -> None:
    status, body = await admin.call("GET", API + query, "alice")
    assert status == 400
    assert body["error"]["param"] in {"limit", "state", "cursor"}


def test_when_a_cursor_is_made_then_it_reads_back() -> None:
    class Last:
        created_at = 12.5
        id = "abc"

    assert decode_cursor(encode_cursor(Last())) == (12.5, "abc")  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        decode_cursor("bm90IGpzb24")


async def test_when_an_approval_is_shown_then_it_carries_what_approvers_need_and_no_raw_value(admin: Admin) -> None:
    approval = admin.people.approval()
    status, body = await admin.call("GET", f"{API}/{approval.id}", "alice")
    assert status == 200
    assert body["requester"]["subject"] == "sam"
    assert (body["model"], body["endpoint"], body["rule"]) == ("llama", "chat.completions", "secrets-need-approval")
    assert body["reasons"] == ["matched_rule", "restricted_type"]
    assert (body["level"], body["counts"]) == ("restricted", {"GITHUB_TOKEN": 1, "EMAIL_ADDRESS": 2})
    assert body["preview"] == "deploy with [GITHUB_TOKEN]"
    assert (body["requester_reason"], body["approvers"], body["approvals_needed"]) == ("hotfix", ["security"], 1)
    assert body["history"] == [{"state": "pending", "actor": "sam", "at": approval.created_at, "reason": "hotfix"}]
    assert "body_sha256" not in body and "policy_version" not in body


async def test_when_an_approval_is_unknown_or_not_yours_to_see_then_it_is_a_404(admin: Admin) -> None:
    approval = admin.people.approval("sam")
    answers = [
        await admin.call("GET", path, who)
        for who, path in [("alice", f"{API}/no-such-id"), ("eve", f"{API}/{approval.id}")]
    ]
    assert answers[0] == answers[1]  # nothing tells a stranger that it exists
    status, body = answers[0]
    assert (status, body["error"]["code"]) == (404, "approval_not_found")


async def test_when_two_of_three_approvals_are_needed_then_two_distinct_approvers_grant_it(admin: Admin) -> None:
    approval = admin.people.approval(needed=2)
    path = f"{API}/{approval.id}/approve"
    status, body = await admin.call("POST", path, "alice", json={"reason": "looked at it"})
    assert (status, body["state"], body["approvals_given"], body["approved_by"]) == (200, "pending", 1, ["alice"])
    status, body = await admin.call("POST", path, "alice", json={"reason": "again"})
    assert (status, body["error"]["code"]) == (409, "already_approved")
    status, body = await admin.call("POST", path, "bob", json={})
    assert (status, body["state"], body["approved_by"]) == (200, "approved", ["alice", "bob"])
    assert [(t["state"], t["actor"], t["reason"]) for t in body["history"]] == [
        ("pending", "sam", "hotfix"),
        ("pending", "alice", "looked at it"),
        ("approved", "bob", ""),
    ]
    status, body = await admin.call("POST", path, "carol")
    assert (status, body["error"]["code"]) == (409, "already_approved")


async def test_when_an_approver_approves_their_own_request_then_it_is_a_403(admin: Admin) -> None:
    approval = admin.people.approval("alice")
    status, body = await admin.call("POST", f"{API}/{approval.id}/approve", "alice")
    assert (status, body["error"]["code"]) == (403, "self_approval")


async def test_when_an_approver_outside_the_approver_groups_decides_then_it_is_a_404_as_for_a_stranger(
    admin: Admin,
) -> None:
    approval = admin.people.approval(approvers=("ops",))
    decided = admin.people.approval(approvers=("ops",))
    admin.people.store.apply(decided.id, lambda a: deny(a, Identity("oscar", groups=("ops",)), now=time.time()))
    unknown = await admin.call("POST", f"{API}/apr_{'x' * 32}/approve", "alice")
    for verb in ("approve", "deny"):
        for held in (approval, decided):
            # nothing tells them it exists, who decides it, or that it was denied
            assert await admin.call("POST", f"{API}/{held.id}/{verb}", "alice") == unknown
    assert unknown[0] == 404 and unknown[1]["error"]["code"] == "approval_not_found"


async def test_when_an_auditor_who_approves_for_other_groups_decides_then_it_is_not_an_approver(admin: Admin) -> None:
    approval = admin.people.approval(approvers=("ops",))
    for verb in ("approve", "deny"):
        status, body = await admin.call("POST", f"{API}/{approval.id}/{verb}", "ava")
        assert (status, body["error"]["code"], body["error"]["approvers"]) == (403, "not_an_approver", ["ops"])


async def test_when_a_caller_without_the_approver_role_decides_then_it_is_a_403(admin: Admin) -> None:
    approval = admin.people.approval("sam")
    status, body = await admin.call("POST", f"{API}/{approval.id}/approve", "eve")
    assert (status, body["error"]["code"]) == (403, "approver_role_required")


async def test_when_a_caller_has_no_role_then_every_resource_is_a_403(admin: Admin) -> None:
    approval = admin.people.approval()
    for method, path in [("GET", API), ("GET", f"{API}/{approval.id}"), ("DELETE", f"{API}/{approval.id}")]:
        status, body = await admin.call(method, path, "nobody")
        assert (status, body["error"]["code"]) == (403, "role_required")


async def test_when_a_caller_sends_no_credentials_then_it_is_a_401(admin: Admin) -> None:
    status, body = await admin.call("GET", API)
    assert status == 401
    assert set(body["error"]) >= {"message", "type", "code", "param"}


async def test_when_an_approver_denies_then_one_denial_denies_whatever_came_before(admin: Admin) -> None:
    approval = admin.people.approval(needed=2)
    assert (await admin.call("POST", f"{API}/{approval.id}/approve", "alice"))[0] == 200
    status, body = await admin.call("POST", f"{API}/{approval.id}/deny", "bob", json={"reason": "not today"})
    assert (status, body["state"], body["history"][-1]["reason"]) == (200, "denied", "not today")
    status, body = await admin.call("POST", f"{API}/{approval.id}/approve", "carol")
    assert (status, body["error"]["code"]) == (403, "approval_denied")


async def test_when_the_requester_cancels_then_it_is_cancelled_and_nobody_else_may(admin: Admin) -> None:
    approval = admin.people.approval("sam")
    status, body = await admin.call("DELETE", f"{API}/{approval.id}", "alice")  # an approver: sees it, may not
    assert (status, body["error"]["code"]) == (403, "not_the_requester")
    status, body = await admin.call("DELETE", f"{API}/{approval.id}", "eve")  # a stranger: not theirs to see
    assert (status, body["error"]["code"]) == (404, "approval_not_found")
    status, body = await admin.call("DELETE", f"{API}/{approval.id}", "sam")
    assert (status, body["state"], body["history"][-1]["actor"]) == (200, "cancelled", "sam")
    status, body = await admin.call("POST", f"{API}/{approval.id}/approve", "alice")
    assert (status, body["error"]["code"]) == (410, "approval_cancelled")


async def test_when_the_decision_body_is_malformed_then_it_is_a_400(admin: Admin) -> None:
    approval = admin.people.approval()
    path = f"{API}/{approval.id}/approve"
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_request"),
        (b'{"reason": 5}', "invalid_request"),
        (b'{"reason": "x", "extra": 1}', "invalid_request"),
        (b'{"reason": "' + b"x" * (MAX_REASON_CHARS + 1) + b'"}', "reason_too_long"),
    ]
    for data, code in cases:
        status, body = await admin.call("POST", path, "alice", data=data)
        assert (status, body["error"]["code"]) == (400, code), data[:20]
    assert (await admin.call("GET", f"{API}/{approval.id}", "alice"))[1]["state"] == "pending"


async def test_when_an_approval_has_lapsed_then_it_shows_expired_and_leaves_the_pending_list(admin: Admin) -> None:
    lapsed = admin.people.approval(created_at=1_000.0)  # pending for an hour from 1970: long over
    status, body = await admin.call("GET", f"{API}/{lapsed.id}", "alice")
    assert (status, body["state"]) == (200, "expired")
    assert lapsed.id not in ids((await admin.call("GET", API + "?state=pending", "alice"))[1])
    assert lapsed.id in ids((await admin.call("GET", API + "?state=expired", "alice"))[1])


async def test_when_a_held_request_is_approved_through_the_api_then_it_goes_through_once(
    admin: Admin, fake_upstream: FakeUpstream
) -> None:
    token = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
    chat = {"model": "llama-internal", "messages": [{"role": "user", "content": f"why does {token} fail?"}]}

    async def send(**headers: str) -> tuple[int, dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                admin.url + "/v1/chat/completions", json=chat, headers={**admin.people.headers("sam"), **headers}
            ) as response,
        ):
            return response.status, await response.json()

    status, body = await send()
    assert (status, body["error"]["code"]) == (403, "approval_required")
    held = body["error"]["approval"]["id"]
    status, listed = await admin.call("GET", API + "?state=pending", "alice")
    assert held in ids(listed)
    assert token not in str(listed)
    assert listed["data"][0]["counts"] == {"GITHUB_TOKEN": 1}
    assert (await admin.call("POST", f"{API}/{held}/approve", "alice", json={"reason": "ok"}))[0] == 200
    status, _ = await send(**{"X-Clearance-Approval": held})
    assert status == 200
    assert len(fake_upstream.received) == 1
    status, again = await send(**{"X-Clearance-Approval": held})
    assert (status, again["error"]["code"]) == (409, "approval_used")
    assert (await admin.call("GET", f"{API}/{held}", "sam"))[1]["state"] == "used"


async def test_when_approvals_are_decided_or_cancelled_then_the_notifiers_hear_of_it(
    tmp_path: Path, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_ADMIN_HOOK", "whsec-admin")
    events: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        events.append(orjson.loads(await request.read()))
        return web.Response(status=204)

    receiver = web.Application()
    receiver.router.add_post("/hook", hook)
    hooks = TestServer(receiver, host="127.0.0.1")
    await hooks.start_server()
    config = admin_config(tmp_path, fake_upstream.base_url)
    notifications = ApprovalNotifiersConfig.model_validate(
        {"webhooks": [{"url": str(hooks.make_url("/hook")), "secret": {"env": "CLR_TEST_ADMIN_HOOK"}}]}
    )
    config = config.model_copy(
        update={"approvals": config.approvals.model_copy(update={"notifications": notifications})}
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        admin = Admin(str(server.make_url("")).rstrip("/"), People.enrol(server.app, config.database.url))
        approved, denied, halfway = (admin.people.approval(), admin.people.approval(), admin.people.approval(needed=2))
        assert (await admin.call("POST", f"{API}/{approved.id}/approve", "alice"))[0] == 200
        assert (await admin.call("POST", f"{API}/{denied.id}/deny", "alice"))[0] == 200
        assert (await admin.call("POST", f"{API}/{halfway.id}/approve", "alice"))[0] == 200  # one of two: no event
        assert (await admin.call("DELETE", f"{API}/{halfway.id}", "sam"))[0] == 200
        dispatcher = server.app[NOTIFICATIONS].dispatcher
        assert dispatcher is not None
        for _ in range(500):  # bounded: delivery is off the request path
            if dispatcher.pending == 0 and len(events) >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        await server.close()
        await hooks.close()
    assert sorted((e["event"], e["approval"]["id"]) for e in events) == sorted(
        [("approved", approved.id), ("denied", denied.id), ("cancelled", halfway.id)]
    )


# -- the rule's reasons, break-glass review, the auditor -----------------------------------------------------------


@pytest.mark.parametrize("action", ["approve", "deny"])
async def test_when_the_rule_asks_approvers_for_a_reason_then_deciding_without_one_is_a_400(
    admin: Admin, action: str
) -> None:
    approval = admin.people.approval(reason_from="approver")

    for body in (None, {"reason": ""}, {"reason": "   "}):
        status, refused = await admin.call("POST", f"{API}/{approval.id}/{action}", "alice", json=body)
        assert (status, refused["error"]["code"], refused["error"]["param"]) == (400, "reason_required", "reason")
    status, decided = await admin.call("POST", f"{API}/{approval.id}/{action}", "alice", json={"reason": "INC-7"})
    assert (status, decided["history"][-1]["reason"], decided["reason_from"]) == (200, "INC-7", "approver")


async def test_when_a_break_glass_is_acknowledged_then_its_review_is_done_and_it_leaves_the_review_list(
    admin: Admin,
) -> None:
    glass = admin.people.break_glass("olga")
    admin.people.approval("sam")

    status, listed = await admin.call("GET", API + "?review=pending", "alice")
    assert (status, ids(listed)) == (200, [glass.id])
    shown = listed["data"][0]
    assert (shown["break_glass"], shown["review"], shown["state"], shown["approved_by"]) == (
        True, "pending", "approved", ["olga"],
    )  # fmt: skip

    status, acknowledged = await admin.call("POST", f"{API}/{glass.id}/acknowledge", "audrey", json={"reason": "INC-7"})

    assert status == 200
    assert (acknowledged["review"], acknowledged["reviewed_by"], acknowledged["review_reason"]) == (
        "acknowledged", "audrey", "INC-7",
    )  # fmt: skip
    assert acknowledged["history"][-1]["actor"] == "audrey"
    assert ids((await admin.call("GET", API + "?review=pending", "alice"))[1]) == []
    assert ids((await admin.call("GET", API + "?review=acknowledged", "audrey"))[1]) == [glass.id]
    status, again = await admin.call("POST", f"{API}/{glass.id}/acknowledge", "alice", json={"reason": "me too"})
    assert (status, again["error"]["code"]) == (409, "no_review_pending")


@pytest.mark.parametrize(
    ("who", "body", "status", "code"),
    [
        ("olga", {"reason": "it was fine"}, 403, "reviewer_role_required"),  # the requester has no reviewer role
        ("sam", {"reason": "fine"}, 403, "reviewer_role_required"),
        ("alice", {}, 400, "reason_required"),
        ("lee", {"reason": "fine"}, 404, "approval_not_found"),  # an approver, not of its groups: not theirs to see
    ],
)
async def test_when_acknowledging_is_not_theirs_to_do_then_it_is_refused(
    admin: Admin, who: str, body: dict[str, Any], status: int, code: str
) -> None:
    glass = admin.people.break_glass("olga")

    answer, refused = await admin.call("POST", f"{API}/{glass.id}/acknowledge", who, json=body)

    assert (answer, refused["error"]["code"]) == (status, code)
    assert (await admin.call("GET", f"{API}/{glass.id}", "alice"))[1]["review"] == "pending"


async def test_when_an_approver_breaks_the_glass_then_they_may_not_acknowledge_their_own(admin: Admin) -> None:
    glass = admin.people.break_glass("alice", groups=("security",))

    status, refused = await admin.call("POST", f"{API}/{glass.id}/acknowledge", "alice", json={"reason": "mine"})

    assert (status, refused["error"]["code"]) == (403, "self_review")


async def test_when_an_auditor_lists_and_shows_then_they_read_every_approval_and_decide_none(admin: Admin) -> None:
    made = [
        admin.people.approval("sam"),
        admin.people.approval("eve", approvers=("ops",)),
        admin.people.approval("alice"),
        admin.people.break_glass("olga"),
    ]

    status, listed = await admin.call("GET", API, "audrey")
    assert (status, sorted(ids(listed))) == (200, sorted(a.id for a in made))
    status, shown = await admin.call("GET", f"{API}/{made[1].id}", "audrey")
    assert (status, shown["id"]) == (200, made[1].id)

    status, refused = await admin.call("POST", f"{API}/{made[0].id}/approve", "audrey", json={"reason": "ok"})
    assert (status, refused["error"]["code"]) == (403, "approver_role_required")
    status, refused = await admin.call("DELETE", f"{API}/{made[0].id}", "audrey")
    assert (status, refused["error"]["code"]) == (403, "not_the_requester")
    assert (await admin.call("GET", f"{API}/{made[0].id}", "sam"))[1]["state"] == "pending"


async def test_when_an_approval_escalates_then_the_escalation_group_sees_and_decides_it(admin: Admin) -> None:
    approval = admin.people.approval("sam", escalate_to=("security-leads",))
    status, refused = await admin.call("GET", f"{API}/{approval.id}", "lee")
    assert (status, refused["error"]["code"]) == (404, "approval_not_found")
    assert approval.escalate_at is not None

    [escalated] = admin.people.store.escalate_due(now=approval.escalate_at)

    assert escalated.id == approval.id
    status, listed = await admin.call("GET", API + "?state=pending", "lee")
    assert (status, ids(listed)) == (200, [approval.id])
    shown = listed["data"][0]
    assert (shown["approvers"], shown["escalate_to"], shown["escalated_at"]) == (
        ["security", "security-leads"], ["security-leads"], approval.escalate_at,
    )  # fmt: skip
    assert shown["history"][-1] == {
        "state": "pending", "actor": "system", "at": approval.escalate_at, "reason": "escalated to security-leads",
    }  # fmt: skip
    status, decided = await admin.call("POST", f"{API}/{approval.id}/approve", "lee", json={"reason": "ok"})
    assert (status, decided["state"], decided["approved_by"]) == (200, "approved", ["lee"])


# -- attacks: what an approver writes is read by others ------------------------------------------------------------

CARD = "4111 1111 1111 1111"


async def test_when_a_reason_holds_a_card_number_then_it_is_stored_and_shown_redacted(
    admin: Admin, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # the requester, the other approvers and the notifiers read every reason: none may read a raw value in one
    denied, cancelled, glass = admin.people.approval(), admin.people.approval(), admin.people.break_glass()
    said = {"reason": f"card {CARD} is the customer's"}
    status, body = await admin.call("POST", f"{API}/{denied.id}/deny", "alice", json=said)
    assert (status, body["history"][-1]["reason"]) == (200, "card [CREDIT_CARD] is the customer's")
    status, body = await admin.call("DELETE", f"{API}/{cancelled.id}", "sam", json=said)
    assert (status, body["history"][-1]["reason"]) == (200, "card [CREDIT_CARD] is the customer's")
    status, body = await admin.call("POST", f"{API}/{glass.id}/acknowledge", "audrey", json=said)
    assert (status, body["review_reason"]) == (200, "card [CREDIT_CARD] is the customer's")
    for approval in (denied, cancelled, glass):
        status, shown = await admin.call("GET", f"{API}/{approval.id}", "sam" if approval is not glass else "olga")
        assert status == 200
        assert "1111" not in orjson.dumps(shown).decode()
    assert "1111" not in caplog.text


# -- attacks on the admin API: ids, paths and what a stranger learns -------------------------------------------------


@pytest.mark.parametrize(
    "path_id",
    [
        "..%2F..%2Fetc%2Fpasswd",
        "4111111111111111",  # caller text shaped like a card number: never repeated
        "apr_" + "a" * 200,
        "%00apr_x",
        "apr_%27%20OR%201%3D1--",
    ],
)
async def test_when_the_id_in_the_path_is_not_one_the_gateway_issues_then_every_operation_is_a_plain_404(
    admin: Admin, path_id: str
) -> None:
    for method, suffix in [("GET", ""), ("DELETE", ""), ("POST", "/approve"), ("POST", "/deny")]:
        status, body = await admin.call(method, f"{API}/{path_id}{suffix}", "alice", json={"reason": "ok"})
        assert (status, body["error"]["code"]) == (404, "approval_not_found")
        assert "4111" not in body["error"]["message"] and "passwd" not in body["error"]["message"]


async def test_when_a_reason_body_is_huge_or_not_json_then_it_is_refused_and_nothing_changes(admin: Admin) -> None:
    approval = admin.people.approval()
    for data, status, code in [
        (b'{"reason": "' + b"x" * 1_000_000 + b'"}', 413, "payload_too_large"),  # read no further than a reason needs
        (b'{"reason": "' + b"x" * 10_000 + b'"}', 400, "reason_too_long"),
        (b"reason=ok", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
    ]:
        answer, body = await admin.call("POST", f"{API}/{approval.id}/approve", "alice", data=data)
        assert (answer, body["error"]["code"]) == (status, code)
    assert (await admin.call("GET", f"{API}/{approval.id}", "alice"))[1]["state"] == "pending"


async def test_when_the_escalation_group_decides_before_the_escalation_is_due_then_it_is_not_theirs(
    admin: Admin,
) -> None:
    approval = admin.people.approval("sam", escalate_to=("security-leads",))
    for verb in ("approve", "deny"):
        status, refused = await admin.call("POST", f"{API}/{approval.id}/{verb}", "lee", json={"reason": "early"})
        assert (status, refused["error"]["code"]) == (404, "approval_not_found")
    assert admin.people.store.get(approval.id).state == "pending"


async def test_when_a_cursor_is_forged_then_the_page_still_holds_only_what_the_caller_may_see(admin: Admin) -> None:
    sams = admin.people.approval("sam")
    others = [admin.people.approval("eve", approvers=("ops",)) for _ in range(3)]
    for forged in ([1e300, ""], [0, "zzz"], [sams.created_at + 1, others[0].id]):
        cursor = base64.urlsafe_b64encode(orjson.dumps(forged)).decode().rstrip("=")
        status, page = await admin.call("GET", f"{API}?cursor={cursor}", "sam")
        assert status == 200
        assert set(ids(page)) <= {sams.id}


# -- the operations, as the console calls them: an identity, no HTTP ----------------------------------------------


@contextmanager
def operations(
    tmp_path: Path, upstream: FakeUpstream, clock: Callable[[], float] = time.time
) -> Iterator[ApprovalsApi]:
    """The gateway's ``ApprovalsApi`` with its store's tables made, outside any server (closed afterwards)."""
    api = create_app(admin_config(tmp_path, upstream.base_url), clock=clock)[APPROVALS_API]
    api.store.create_tables()
    try:
        yield api
    finally:
        api.store.close()


async def test_when_the_operations_are_called_with_an_identity_then_they_apply_the_api_s_rules(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    with operations(tmp_path, fake_upstream) as api:
        people = People(api.store)
        held, other = people.approval("sam"), people.approval("sam")
        alice, sam = Identity("alice", groups=("security",)), Identity("sam", groups=("engineering",))
        with pytest.raises(PermissionDenied) as anonymous:  # the policy gives an anonymous caller no role here
            await api.list_approvals(Identity.anonymous(), {})
        assert anonymous.value.code == "role_required"
        with pytest.raises(PermissionDenied) as no_approver:
            await api.approve(sam, held.id, "mine")
        assert no_approver.value.code == "approver_role_required"
        with pytest.raises(InvalidRequest) as too_long:
            await api.deny(alice, held.id, "x" * (MAX_REASON_CHARS + 1))
        assert too_long.value.code == "reason_too_long"
        page = await api.list_approvals(alice, {"state": "pending", "limit": "1"})
        assert len(page.data) == 1 and page.next_cursor is not None
        approved = await api.approve(alice, held.id, f"card {CARD}")
        assert (approved.state, approved.history[-1].reason) == ("approved", "card [CREDIT_CARD]")
        cancelled = await api.cancel(sam, other.id)
        assert (await api.get_approval(alice, other.id)).state == cancelled.state == "cancelled"


# -- live events: GET /admin/v1/approvals/events ----------------------------------------------------------------

Event = tuple[str, dict[str, Any]]


class EventReader:
    """An open event stream, read line by line; every wait is bounded."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response
        self.comments = 0

    async def opened(self) -> None:
        """Past the ``retry:`` the stream starts with: from here on, no change is missed."""
        assert await self._line() == f"retry: {RETRY_MILLISECONDS}"

    async def _line(self) -> str | None:
        async with asyncio.timeout(BOUND):
            raw = await self.response.content.readline()
        return raw.decode().rstrip("\n") if raw else None

    async def next(self) -> Event | None:
        """The next event; None when the stream ended."""
        name = None
        for _ in range(100):
            line = await self._line()
            if line is None:
                return None
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                assert name is not None
                return name, orjson.loads(line.removeprefix("data: "))
        raise AssertionError("no event in 100 lines")


BOUND = 20.0
"""Seconds any one wait for the stream may take before the test fails."""


@asynccontextmanager
async def events_of(admin: Admin, who: str) -> AsyncIterator[EventReader]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(admin.url + API + "/events", headers=admin.people.headers(who)) as response,
    ):
        assert response.status == 200
        assert response.content_type == "text/event-stream"
        reader = EventReader(response)
        await reader.opened()
        yield reader


async def test_when_approvals_change_then_the_stream_sends_each_change_the_caller_may_see(admin: Admin) -> None:
    async with events_of(admin, "alice") as alice, events_of(admin, "eve") as eve:
        theirs = admin.people.approval("sam", approvers=("ops",))  # not alice's to see, nor eve's
        held = admin.people.approval("sam", needed=2)
        assert await alice.next() == ("requested", (await admin.call("GET", f"{API}/{held.id}", "alice"))[1])
        assert (await admin.call("POST", f"{API}/{held.id}/approve", "alice", json={"reason": "one"}))[0] == 200
        step = await alice.next()
        assert step is not None and (step[0], step[1]["approvals_given"]) == ("approved_step", 1)
        assert (await admin.call("POST", f"{API}/{held.id}/deny", "bob", json={"reason": "no"}))[0] == 200
        denied = await alice.next()
        assert denied is not None and (denied[0], denied[1]["state"], denied[1]["id"]) == ("denied", "denied", held.id)
        evess = admin.people.approval("eve")
        first = await eve.next()  # nothing of sam's came before her own
        assert first is not None and (first[0], first[1]["id"]) == ("requested", evess.id)
        assert (await admin.call("DELETE", f"{API}/{evess.id}", "eve"))[0] == 200
        cancelled = await eve.next()
        assert cancelled is not None and (cancelled[0], cancelled[1]["state"]) == ("cancelled", "cancelled")
        later = await alice.next()
        assert later is not None and later[1]["id"] == evess.id  # alice decides eve's: security approves it
        assert theirs.id not in {held.id, evess.id}
        assert "ghp_" not in orjson.dumps(step[1]).decode()  # the resource: the preview is masked


async def test_when_a_caller_opens_more_streams_than_allowed_then_the_next_is_a_429(admin: Admin) -> None:
    async with AsyncExitStack() as streams:
        for _ in range(MAX_STREAMS_PER_CALLER):
            await streams.enter_async_context(events_of(admin, "sam"))
        status, body = await admin.call("GET", API + "/events", "sam")
        assert (status, body["error"]["code"]) == (429, "too_many_streams")
        async with events_of(admin, "eve"):  # another caller's streams are their own
            pass
    async with events_of(admin, "sam"):  # closed streams give their slots back
        pass


async def test_when_a_stream_is_asked_without_credentials_or_role_then_it_is_refused(admin: Admin) -> None:
    assert (await admin.call("GET", API + "/events"))[0] == 401
    status, body = await admin.call("GET", API + "/events", "nobody")
    assert (status, body["error"]["code"]) == (403, "role_required")


async def test_when_the_gateway_stops_then_open_streams_end_and_no_task_is_left(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    before = asyncio.all_tasks()
    config = admin_config(tmp_path, fake_upstream.base_url)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    admin = Admin(str(server.make_url("")).rstrip("/"), People.enrol(server.app, config.database.url))
    async with events_of(admin, "alice") as stream:
        await server.close()
        assert await stream.next() is None  # ended, not cut off by a timeout
    assert server.app[APPROVALS_API].signals.feeds == 0
    left = {t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()}
    assert left == set()


async def test_when_nothing_changes_then_the_stream_sends_heartbeats_and_a_repeat_sends_nothing(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    with operations(tmp_path, fake_upstream) as api:
        people = People(api.store)
        alice = Identity("alice", groups=("security",))
        async with api.events(alice, heartbeat=0) as events:
            stream = aiter(events)
            assert await anext(stream) is None  # no change: a heartbeat
            held = people.approval("sam")
            api.signals.publish(held.id)  # the same change again (as NOTIFY brings it on PostgreSQL)
            api.signals.publish("apr_" + "n" * 32)  # an id that is not there
            await asyncio.sleep(0)  # the signals are handed to the stream's loop
            created = await anext(stream)
            assert created is not None and (created.change, created.approval.id) == ("requested", held.id)
            assert await anext(stream) is None  # the repeat and the unknown id sent nothing
            api.signals.close()
            await asyncio.sleep(0)
            assert [event async for event in stream] == []
        assert api.signals.feeds == 0
        with pytest.raises(PermissionDenied):
            api.events(Identity("nobody", groups=("finance",)))


@pytest.mark.postgres
async def test_when_another_instance_decides_then_this_instance_s_stream_shows_it(
    tmp_path: Path, fake_upstream: FakeUpstream, postgres_url: str
) -> None:
    config = admin_config(tmp_path, fake_upstream.base_url, postgres_url)
    here, there = (TestServer(create_app(config), host="127.0.0.1") for _ in range(2))
    await here.start_server()
    await there.start_server()
    try:
        admin_here = Admin(str(here.make_url("")).rstrip("/"), People.enrol(here.app, config.database.url))
        admin_there = Admin(str(there.make_url("")).rstrip("/"), admin_here.people)
        async with events_of(admin_here, "alice") as stream:
            held = admin_here.people.approval("sam")
            assert (await stream.next() or ("", {}))[0] == "requested"
            assert (await admin_there.call("POST", f"{API}/{held.id}/approve", "alice", json={}))[0] == 200
            approved = await stream.next()
            assert approved is not None and (approved[0], approved[1]["id"]) == ("approved", held.id)
    finally:
        await there.close()
        await here.close()


async def test_when_the_stream_s_end_time_comes_then_it_ends(tmp_path: Path, fake_upstream: FakeUpstream) -> None:
    now = [1_000.0]
    with operations(tmp_path, fake_upstream, clock=lambda: now[0]) as api:
        alice = Identity("alice", groups=("security",))
        async with api.events(alice, heartbeat=0, until=1_010.0) as events:
            stream = aiter(events)
            assert await anext(stream) is None  # before its end: heartbeats
            now[0] = 1_010.0
            assert [event async for event in stream] == []
        async with api.events(alice, heartbeat=0, until=1_000.0) as events:
            assert [event async for event in events] == []  # over before it began


def test_when_an_approval_changes_then_the_event_is_named_for_the_change() -> None:
    asked = request({"n": 1}, needed=2, now=T0)
    alice, bob = Identity("alice", groups=("security",)), Identity("bob", groups=("security",))
    audrey = Identity("audrey", groups=("audit",))
    one = approve(asked, alice, now=T0 + 1)
    granted = approve(one, bob, now=T0 + 2)
    sam = Identity(SAM.subject, email=SAM.email, groups=SAM.groups, key_id=SAM.key_id)
    spent = use(
        granted, sam, body_sha256=granted.body_sha256, endpoint=granted.endpoint, rule=granted.rule,
        policy_version=granted.policy_version, now=T0 + 3,
    )  # fmt: skip
    escalating = replace(asked, escalate_to=("security-leads",), escalate_at=T0 + 60)
    glass = break_glass(asked, sam, "prod down", groups=("dev",), now=T0 + 1)
    cases = {
        "requested": asked,
        "approved_step": one,
        "approved": granted,
        "used": spent,
        "denied": deny(asked, alice, now=T0 + 1),
        "cancelled": cancel(asked, sam, now=T0 + 1),
        "expired": expire(asked, now=asked.expires_at),
        "escalated": escalate(escalating, now=T0 + 60),
        "break_glass": glass,
        "acknowledged": acknowledge(glass, audrey, "INC-7", now=T0 + 2, auditor=True),
    }
    for change, approval in cases.items():
        assert change_of(ApprovalResource.of(approval, now=T0 + 5)) == change, change
    assert change_of(ApprovalResource.of(asked, now=asked.expires_at + 1)) == "expired"  # lapsed, not yet recorded
