"""The audit records admin API on a real gateway (the example approval policy, API keys as credentials), on SQLite
and PostgreSQL: records made by real requests, filtered and paged by an auditor; everyone else sees only their own
(``mine=true``, no role needed) and gets 403 for the whole trail, 404 for a record not theirs."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.admin.records import RECORDS_API, decode_cursor, encode_cursor
from clearance.app import AUDIT, create_app
from clearance.approvals.lifecycle import approve
from clearance.audit.checkpointer import Checkpointer
from clearance.audit.store import SqlAuditStore
from clearance.exceptions import InvalidRequest, PermissionDenied
from clearance.models import AuditRecord, Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_config, admin_gateway
from tests.approvals.test_store import use_as_sam
from tests.audit.conftest import ORIGIN, make_signer

API = "/admin/v1/records"
ASKED = ("sam", "eve", "sam", "nobody", "sam", "eve")
"""Who sends a model request, in order: sam and eve are engineers; nobody has no clearance (blocked, recorded)."""


@dataclass
class Trail:
    url: str
    people: People
    app: web.Application

    async def call(self, path: str, who: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = self.people.headers(who) if who else {}
        async with aiohttp.ClientSession() as session, session.get(self.url + path, headers=headers) as response:
            return response.status, await response.json()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def trail(request: pytest.FixtureRequest, tmp_path: Path, fake_upstream: FakeUpstream) -> AsyncIterator[Trail]:
    """A gateway whose trail holds one record per request of ``ASKED``, oldest first."""
    async with admin_gateway(request, tmp_path, fake_upstream.base_url) as gateway:
        for n, who in enumerate(ASKED):
            key = gateway.people.keys[who]
            async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0) as client:
                try:
                    await client.chat.completions.create(
                        model="llama-internal", messages=[{"role": "user", "content": f"question {n}"}]
                    )
                except openai.PermissionDeniedError:
                    assert who == "nobody"
        await gateway.app[AUDIT].flush()
        yield Trail(gateway.url, gateway.people, gateway.app)


def subjects(body: dict[str, Any]) -> list[str]:
    return [item["subject"] for item in body["data"]]


async def test_when_an_auditor_lists_then_every_record_comes_newest_first(trail: Trail) -> None:
    status, body = await trail.call(API, "audrey")

    assert status == 200
    assert subjects(body) == list(reversed(ASKED))
    assert body["next_cursor"] is None
    assert body["data"][0]["findings"] == {}
    assert "request_text" not in body["data"][0]


async def test_when_an_auditor_pages_then_every_record_comes_once_in_order(trail: Trail) -> None:
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(5):  # six records, pages of 4: two pages
        status, body = await trail.call(API + "?limit=4" + (f"&cursor={cursor}" if cursor else ""), "audrey")
        assert status == 200
        seen += [item["id"] for item in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert len(seen) == len(ASKED) == len(set(seen))
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?subject=sam", ["sam", "sam", "sam"]),
        ("?group=engineering&subject=eve", ["eve", "eve"]),
        ("?decision=block", ["nobody"]),
        ("?status=403", ["nobody"]),
        ("?decision=allow&model=llama-internal&limit=2", ["eve", "sam"]),
        ("?type=EMAIL_ADDRESS", []),
        ("?since=2000-01-01T00:00:00Z&until=2999-01-01", list(reversed(ASKED))),
        ("?until=2000-01-01T00:00:00Z", []),
    ],
)
async def test_when_an_auditor_filters_then_only_matching_records_come(
    trail: Trail, query: str, expected: list[str]
) -> None:
    status, body = await trail.call(API + query, "audrey")

    assert (status, subjects(body)) == (200, expected)


@pytest.mark.parametrize("who", ["sam", "alice", "nobody"])
async def test_when_a_caller_without_the_auditor_role_lists_every_record_then_it_is_a_403(
    trail: Trail, who: str
) -> None:
    status, body = await trail.call(API, who)

    assert status == 403
    assert body["error"]["code"] == "auditor_role_required"


@pytest.mark.parametrize(("who", "count"), [("sam", 3), ("eve", 2), ("nobody", 1), ("alice", 0)])
async def test_when_anyone_lists_their_own_then_they_see_exactly_their_records_without_a_role(
    trail: Trail, who: str, count: int
) -> None:
    status, body = await trail.call(API + "?mine=true", who)

    assert (status, subjects(body)) == (200, [who] * count)


async def test_when_an_anonymous_caller_asks_then_it_is_a_401(trail: Trail) -> None:
    status, body = await trail.call(API + "?mine=true")

    assert (status, body["error"]["code"]) == (401, "missing_credentials")


async def test_when_mine_names_another_subject_then_it_is_a_400(trail: Trail) -> None:
    status, body = await trail.call(API + "?mine=true&subject=eve", "sam")

    assert (status, body["error"]["param"]) == (400, "subject")


async def test_when_a_record_is_shown_then_its_owner_and_an_auditor_see_it_and_no_one_else(trail: Trail) -> None:
    _, mine = await trail.call(API + "?mine=true&limit=1", "eve")
    record_id = mine["data"][0]["id"]

    owner = await trail.call(f"{API}/{record_id}", "eve")
    auditor = await trail.call(f"{API}/{record_id}", "audrey")
    other = await trail.call(f"{API}/{record_id}", "sam")

    assert owner[0] == auditor[0] == 200
    assert owner[1] == auditor[1]
    assert (owner[1]["subject"], owner[1]["identity_kind"], owner[1]["auth_method"]) == ("eve", "service", "api_key")
    assert owner[1]["groups"] == ["engineering"]
    assert other[0] == 404
    assert other[1]["error"]["code"] == "record_not_found"


@pytest.mark.parametrize("record_id", ["0", "99999", "abc", "1e3", "99999999999999999999999"])
async def test_when_a_record_id_is_unknown_or_malformed_then_it_is_a_404(trail: Trail, record_id: str) -> None:
    status, body = await trail.call(f"{API}/{record_id}", "audrey")

    assert (status, body["error"]["code"]) == (404, "record_not_found")


@pytest.mark.parametrize(
    "query",
    ["?limit=0", "?limit=101", "?cursor=%%%", "?cursor=e30", "?since=yesterday", "?status=x", "?mine=maybe", "?rule="],
)
async def test_when_the_query_is_wrong_then_it_is_a_400_naming_the_parameter(trail: Trail, query: str) -> None:
    status, body = await trail.call(API + query, "audrey")

    assert status == 400
    assert body["error"]["param"] == query[1:].split("=")[0]


def test_when_a_cursor_is_made_then_it_reads_back_and_a_foreign_one_is_refused() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    with pytest.raises(InvalidRequest):
        decode_cursor("WzEyLjUsImFiYyJd")  # an approvals cursor


async def write_record(app: web.Application, subject: str, **fields: Any) -> None:
    """A record of ``subject``'s exchange, written through the gateway's store as the pipeline writes one."""
    store = app[AUDIT]
    store.record(
        AuditRecord(
            request_id=f"req-{subject}-{time.monotonic_ns()}",
            started_at=time.time(),
            endpoint="chat.completions",
            method="POST",
            status=200,
            subject=subject,
            **fields,
        )
    )
    await store.flush()


async def _record_of(trail: Trail, approval_id: str | None, subject: str = "sam") -> int:
    """A record of ``subject``'s exchange through ``approval_id``: its id."""
    await write_record(trail.app, subject, decision="require_approval", approval_id=approval_id)
    _, body = await trail.call(f"{API}?mine=true&limit=1", subject)
    return int(body["data"][0]["id"])


async def test_when_a_story_is_shown_then_it_links_the_approval_its_decisions_the_grant_and_the_record(
    trail: Trail,
) -> None:
    store = trail.people.store
    asked = trail.people.approval("sam")
    store.apply(asked.id, lambda a: approve(a, Identity("alice", groups=("security",)), "ok", now=time.time()))
    used = store.apply(asked.id, lambda a: use_as_sam(a, now=time.time()))
    record_id = await _record_of(trail, asked.id)

    status, story = await trail.call(f"{API}/{record_id}/story", "sam")

    assert status == 200
    assert story["record"]["id"] == record_id
    assert story["approval"]["id"] == asked.id
    assert [(t["state"], t["actor"]) for t in story["approval"]["history"]] == [
        ("pending", "sam"),
        ("approved", "alice"),
        ("used", "sam"),
    ]
    assert story["grant"] == {
        "granted_at": used.history[1].at,
        "expires_at": used.expires_at,
        "spent_at": used.history[2].at,
    }
    assert story["integrity"] == {
        "state": "off",
        "detail": "audit integrity is off (no audit.integrity.signing_key): nothing is signed",
        "checkpoint": None,
    }


async def test_when_a_story_is_asked_for_then_it_has_the_visibility_of_the_record(trail: Trail) -> None:
    record_id = await _record_of(trail, None, subject="eve")

    owner = await trail.call(f"{API}/{record_id}/story", "eve")
    auditor = await trail.call(f"{API}/{record_id}/story", "audrey")
    approver = await trail.call(f"{API}/{record_id}/story", "alice")

    assert (owner[0], auditor[0], owner[1]["approval"], owner[1]["grant"]) == (200, 200, None, None)
    assert (approver[0], approver[1]["error"]["code"]) == (404, "record_not_found")


async def test_when_the_console_calls_the_operations_anonymously_then_the_roles_still_apply(trail: Trail) -> None:
    api = trail.app[RECORDS_API]

    with pytest.raises(PermissionDenied):
        await api.list(Identity.anonymous(), {})
    own = await api.list(Identity.anonymous(), {"mine": "true"})
    auditor = await api.list(Identity("audrey", groups=("audit",)), {"subject": "sam", "limit": "2"})

    assert own.data == []
    assert [r.subject for r in auditor.data] == ["sam", "sam"]
    assert auditor.next_cursor is not None


async def test_when_integrity_is_on_then_a_checkpointed_record_tells_the_checkpoint_it_is_verified_up_to(
    tmp_path: Path, fake_upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLEARANCE_TEST_STORY_KEY", make_signer().secret_key_string())
    integrity = {"integrity": {"signing_key": {"env": "CLEARANCE_TEST_STORY_KEY"}, "checkpoint_interval": 3600}}
    config = admin_config(tmp_path, fake_upstream.base_url, audit=integrity)
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        trail = Trail(str(server.make_url("")).rstrip("/"), People.enrol(server.app, config.database.url), server.app)
        first = await _record_of(trail, None)
        store = server.app[AUDIT]
        assert isinstance(store, SqlAuditStore)
        Checkpointer(store.engine, make_signer(), origin=ORIGIN).checkpoint()
        second = await _record_of(trail, "apr_none")

        _, covered = await trail.call(f"{API}/{first}/story", "audrey")
        _, fresh = await trail.call(f"{API}/{second}/story", "audrey")
    finally:
        await server.close()

    assert (covered["leaf_index"], covered["first_checkpoint"]) == (0, 1)
    assert covered["integrity"] == {
        "state": "verified",
        "detail": "integrity verified up to checkpoint 1",
        "checkpoint": 1,
    }
    assert (fresh["leaf_index"], fresh["integrity"]["state"], fresh["approval"]) == (1, "not_checkpointed", None)
