"""The trail's figures on the admin API, on a real gateway (the example approval policy plus an admin; API keys as
credentials), on SQLite and PostgreSQL: records made by real requests through the openai SDK, and the figures the
API gives compared with counts asked of the database directly. Auditors and admins read them; nobody else."""

from __future__ import annotations

import contextlib
import json
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from clearance.admin.stats import BUCKETS, MAX_BUCKETS, STATS_API, StatsApi, choose_bucket
from clearance.app import AUDIT
from clearance.exceptions import PermissionDenied
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import AdminGateway, admin_gateway

API = "/admin/v1/stats"
EMAIL = "write to jane.doe@northwind-traders.com"
TOKEN = "deploy with ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
ASKED = (("sam", "hello"), ("eve", EMAIL), ("sam", TOKEN), ("nobody", "hi"), ("sam", EMAIL), ("alice", TOKEN))
"""Who asks what: sam and eve are engineers (a token needs an approval); nobody has no clearance (blocked)."""


@dataclass
class Trail:
    gateway: AdminGateway
    api: StatsApi

    async def call(self, path: str, who: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = self.gateway.people.headers(who) if who else {}
        async with (
            aiohttp.ClientSession() as session,
            session.get(self.gateway.url + path, headers=headers) as response,
        ):
            return response.status, await response.json()

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        return self.gateway.sql(query)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def trail(request: pytest.FixtureRequest, tmp_path: Path, fake_upstream: FakeUpstream) -> AsyncIterator[Trail]:
    async with admin_gateway(request, tmp_path, fake_upstream.base_url) as gateway:
        for who, content in ASKED:
            key = gateway.people.keys[who]
            async with openai.AsyncOpenAI(base_url=gateway.url + "/v1", api_key=key, max_retries=0) as client:
                with contextlib.suppress(openai.PermissionDeniedError):  # blocked, or waiting for an approval
                    await client.chat.completions.create(
                        model="llama-internal", messages=[{"role": "user", "content": content}]
                    )
        async with aiohttp.ClientSession() as session, session.get(gateway.url + "/v1/models") as response:
            assert response.status == 401  # no credentials: a record without a decision or a subject
        await gateway.app[AUDIT].flush()
        yield Trail(gateway, gateway.app[STATS_API])


async def test_when_an_auditor_asks_then_the_figures_are_the_databases_own(trail: Trail) -> None:
    status, body = await trail.call(API, "audrey")

    assert status == 200
    assert body["requests"] == trail.sql("SELECT count(*) FROM audit_records")[0][0] == len(ASKED) + 1
    decisions = {d or "none": n for d, n in trail.sql("SELECT decision, count(*) FROM audit_records GROUP BY decision")}
    assert body["decisions"] == decisions
    assert {"allow", "require_approval", "block", "none"} <= set(decisions)
    models = {m: n for m, n in trail.sql("SELECT model, count(*) FROM audit_records GROUP BY model")}
    assert {item["name"]: item["requests"] for item in body["models"]} == models
    users = {s: n for s, n in trail.sql("SELECT subject, count(*) FROM audit_records GROUP BY subject")}
    assert {item["name"]: item["requests"] for item in body["users"]} == users
    assert body["users"][0] == {"name": "sam", "requests": 3}
    found: Counter[str] = Counter()
    holding: Counter[str] = Counter()
    for (findings,) in trail.sql("SELECT findings FROM audit_records"):
        parsed = (findings if isinstance(findings, dict) else json.loads(findings or "null")) or {}
        found.update(parsed)
        holding.update(parsed.keys())
    assert {t["type"]: (t["found"], t["requests"]) for t in body["types"]} == {
        name: (n, holding[name]) for name, n in found.items()
    }
    assert {"EMAIL_ADDRESS", "GITHUB_TOKEN"} <= set(found)
    assert sum(b["requests"] for b in body["buckets"]) == body["requests"]
    assert body["bucket"] == 900
    assert body["until"] - body["since"] == pytest.approx(86400)


async def test_when_an_admin_asks_for_a_window_then_only_its_records_count(trail: Trail) -> None:
    now = int(time.time())
    status, empty = await trail.call(f"{API}?since={now - 7200}&until={now - 3600}", "ada")
    _, hour = await trail.call(f"{API}?since={now - 3600}&until={now + 60}&bucket=5m&top=1", "ada")

    assert status == 200
    assert empty["requests"] == 0
    assert empty["types"] == empty["models"] == empty["users"] == []
    assert empty["bucket"] == 60
    assert len(empty["buckets"]) == len(range((now - 7200) // 60 * 60, now - 3600, 60))
    assert all(b["requests"] == 0 for b in empty["buckets"])
    assert hour["requests"] == len(ASKED) + 1
    assert hour["bucket"] == 300
    assert hour["users"] == [{"name": "sam", "requests": 3}]


@pytest.mark.parametrize("who", ["sam", "alice", "nobody"])
async def test_when_neither_an_auditor_nor_an_admin_asks_then_403(trail: Trail, who: str) -> None:
    status, body = await trail.call(API, who)

    assert status == 403
    assert body["error"]["code"] == "auditor_role_required"
    assert "requests" not in body


async def test_when_nobody_signs_in_then_401(trail: Trail) -> None:
    status, _ = await trail.call(API)
    assert status == 401


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("since=yesterday", "since"),
        ("until=1e3", "until"),
        ("since=2026-01-02T00:00:00Z&until=2026-01-01T00:00:00Z", "since"),
        ("since=2026-01-01T00:00:00Z&until=2026-01-31T00:00:00Z&bucket=1h", "bucket"),
        ("bucket=30", "bucket"),
        ("bucket=-1h", "bucket"),
        ("top=0", "top"),
        ("top=51", "top"),
    ],
)
async def test_when_a_parameter_is_wrong_then_400_naming_it(trail: Trail, query: str, param: str) -> None:
    status, body = await trail.call(f"{API}?{query}", "audrey")

    assert status == 400
    assert body["error"]["param"] == param


@pytest.mark.parametrize(
    ("window", "bucket"),
    [(3600, 60), (86400, 900), (7 * 86400, 7200), (30 * 86400, 43200), (365 * 86400, 7 * 86400)],
)
def test_when_no_bucket_is_asked_then_the_window_chooses_one_giving_at_most_100(window: int, bucket: int) -> None:
    assert choose_bucket(window) == bucket
    assert window / bucket + 1 <= MAX_BUCKETS
    shorter = [b for b in BUCKETS if b < bucket]
    assert all(window / b + 1 > MAX_BUCKETS for b in shorter)


async def test_when_the_operation_is_called_directly_then_it_answers_as_the_api_and_checks_the_role(
    trail: Trail,
) -> None:
    until = time.time() + 60
    query = {"since": f"{until - 3600:.0f}", "until": f"{until:.0f}"}
    _, body = await trail.call(f"{API}?since={query['since']}&until={query['until']}", "audrey")

    figures = await trail.api.window(Identity(subject="audrey", kind="service", groups=("audit",)), query)

    assert figures.model_dump(mode="json") == body
    with pytest.raises(PermissionDenied):
        await trail.api.window(Identity(subject="sam", kind="service", groups=("engineering",)), query)
    with pytest.raises(PermissionDenied):
        await trail.api.window(Identity.anonymous(), query)
