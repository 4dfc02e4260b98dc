"""The audit records admin API on a real gateway (the example approval policy, API keys as credentials), on SQLite
and PostgreSQL: records made by real requests, filtered and paged by an auditor; everyone else sees only their own
(``mine=true``, no role needed) and gets 403 for the whole trail, 404 for a record not theirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from clearance.admin.records import decode_cursor, encode_cursor
from clearance.app import AUDIT
from clearance.exceptions import InvalidRequest
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_gateway

API = "/admin/v1/records"
ASKED = ("sam", "eve", "sam", "nobody", "sam", "eve")
"""Who sends a model request, in order: sam and eve are engineers; nobody has no clearance (blocked, recorded)."""


@dataclass
class Trail:
    url: str
    people: People

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
        yield Trail(gateway.url, gateway.people)


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
