"""The API keys admin API on a real gateway (the example approval policy plus an admin, API keys as credentials): an
admin lists, creates and revokes keys; the key made works at once against the model API and stops working once
revoked; the raw key and its hash never appear in a listing or a log; everyone else gets 403 and nothing changes."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest

from clearance.admin.keys import KEYS_API, KeysApi, new_key_body
from clearance.app import create_app
from clearance.auth.keys import ApiKeyStore, hash_key
from clearance.exceptions import InvalidRequest, NotFound, PermissionDenied
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import People, admin_gateway
from tests.conftest import gateway_config

API = "/admin/v1/keys"
REPLY = "Hello! I am a test double, not a model."
ADA = Identity(subject="ada", kind="service", groups=("platform",))


@dataclass
class Gateway:
    url: str
    people: People
    database_url: str
    api: KeysApi

    async def call(
        self, method: str, path: str, who: str | None = None, body: Any = None
    ) -> tuple[int, dict[str, Any], Mapping[str, str]]:
        headers = self.people.headers(who) if who else {}
        async with (
            aiohttp.ClientSession() as session,
            session.request(method, self.url + path, headers=headers, json=body) as response,
        ):
            return response.status, await response.json(), response.headers

    def stored(self) -> list[tuple[str, str | None]]:
        """Every key's id and revocation time, straight from the table."""
        store = ApiKeyStore(self.database_url)
        try:
            return [(r.key_id, str(r.revoked_at)) for r in store.list()]
        finally:
            store.close()

    async def ask(self, key: str) -> str:
        async with openai.AsyncOpenAI(base_url=self.url + "/v1", api_key=key, max_retries=0) as client:
            answer = await client.chat.completions.create(
                model="llama-internal", messages=[{"role": "user", "content": "hello"}]
            )
        return answer.choices[0].message.content or ""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def gateway(
    request: pytest.FixtureRequest, tmp_path: Path, fake_upstream: FakeUpstream
) -> AsyncIterator[Gateway]:
    async with admin_gateway(request, tmp_path, fake_upstream.base_url) as served:
        yield Gateway(served.url, served.people, served.database_url, served.app[KEYS_API])


async def test_when_an_admin_lists_keys_then_each_comes_with_its_facts_and_never_the_key_or_its_hash(
    gateway: Gateway,
) -> None:
    status, body, _ = await gateway.call("GET", API, "ada")

    assert status == 200
    owners = [item["owner"] for item in body["data"]]
    assert sorted(owners) == sorted(gateway.people.keys)
    sam = next(item for item in body["data"] if item["owner"] == "sam")
    assert sam["groups"] == ["engineering"]
    assert sam["status"] == "active"
    assert sam["expires_at"] is None
    assert set(sam) == {
        *("object", "id", "name", "owner", "groups", "created_at", "expires_at", "last_used_at", "revoked_at"),
        "status",
    }
    text = str(body)
    for raw in gateway.people.keys.values():
        assert raw not in text
        assert hash_key(raw) not in text


async def test_when_a_key_was_used_then_the_list_says_when(gateway: Gateway) -> None:
    before = time.time()
    await gateway.ask(gateway.people.keys["sam"])

    _, body, _ = await gateway.call("GET", API, "ada")

    sam = next(item for item in body["data"] if item["owner"] == "sam")
    assert sam["last_used_at"] is not None and sam["last_used_at"] >= before
    eve = next(item for item in body["data"] if item["owner"] == "eve")
    assert eve["last_used_at"] is None


async def test_when_an_admin_creates_a_key_then_it_is_shown_once_and_works_until_revoked(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="clearance.auth.keys")
    status, made, headers = await gateway.call(
        "POST", API, "ada", {"name": "nightly-report", "groups": ["engineering"], "expires_in": "30d"}
    )

    assert status == 201
    assert headers["Cache-Control"] == "no-store"
    assert made["key"].startswith(f"clr_{made['id']}_")
    assert made["name"] == "nightly-report"
    assert made["owner"] == "ada"  # the caller, no owner given
    assert made["groups"] == ["engineering"]
    assert made["expires_at"] == pytest.approx(made["created_at"] + 30 * 86400)
    assert await gateway.ask(made["key"]) == REPLY
    _, listed, _ = await gateway.call("GET", API, "ada")
    assert made["id"] in [item["id"] for item in listed["data"]]
    assert made["key"] not in str(listed)

    status, revoked, _ = await gateway.call("DELETE", f"{API}/{made['id']}", "ada")

    assert status == 200
    assert revoked["status"] == "revoked"
    assert "key" not in revoked
    with pytest.raises(openai.AuthenticationError):
        await gateway.ask(made["key"])
    logged = [r for r in caplog.records if r.name == "clearance.auth.keys"]
    assert [r.getMessage() for r in logged] == ["API key created", "API key revoked"]
    assert all(getattr(r, "key_id", None) == made["id"] and getattr(r, "by", None) == "ada" for r in logged)
    assert made["key"] not in caplog.text
    assert hash_key(made["key"]) not in caplog.text


async def test_when_an_admin_names_an_owner_then_the_key_is_theirs(gateway: Gateway) -> None:
    status, made, _ = await gateway.call("POST", API, "ada", {"name": "ci", "owner": "ci-bot", "expires_in": "never"})

    assert status == 201
    assert made["owner"] == "ci-bot"
    assert made["expires_at"] is None


async def test_when_a_revoked_key_is_revoked_again_then_it_is_answered_as_it_is(gateway: Gateway) -> None:
    _, made, _ = await gateway.call("POST", API, "ada", {"name": "twice"})
    _, first, _ = await gateway.call("DELETE", f"{API}/{made['id']}", "ada")

    status, second, _ = await gateway.call("DELETE", f"{API}/{made['id']}", "ada")

    assert status == 200
    assert second["revoked_at"] == first["revoked_at"]


@pytest.mark.parametrize("key_id", ["000000000000", "not-an-id", "ABCDEF012345"])
async def test_when_an_unknown_key_is_revoked_then_404(gateway: Gateway, key_id: str) -> None:
    before = gateway.stored()

    status, body, _ = await gateway.call("DELETE", f"{API}/{key_id}", "ada")

    assert status == 404
    assert body["error"]["code"] == "api_key_not_found"
    assert gateway.stored() == before


@pytest.mark.parametrize("who", ["sam", "alice", "audrey", "nobody"])
async def test_when_a_non_admin_calls_then_403_and_nothing_changes(gateway: Gateway, who: str) -> None:
    victim = gateway.people.keys["sam"].split("_")[1]
    before = gateway.stored()

    answers = [
        await gateway.call("GET", API, who),
        await gateway.call("POST", API, who, {"name": "mine", "groups": ["platform"]}),
        await gateway.call("DELETE", f"{API}/{victim}", who),
    ]

    assert [(status, body["error"]["code"]) for status, body, _ in answers] == [(403, "admin_role_required")] * 3
    assert gateway.stored() == before
    assert await gateway.ask(gateway.people.keys["sam"]) == REPLY


async def test_when_nobody_signs_in_then_401(gateway: Gateway) -> None:
    before = gateway.stored()

    answers = [await gateway.call("GET", API), await gateway.call("POST", API, body={"name": "x"})]

    assert [status for status, _, _ in answers] == [401, 401]
    assert gateway.stored() == before


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": "  "}, "name"),
        ({"name": "x", "expires_in": "soon"}, "expires_in"),
        ({"name": "x", "expires_in": "2001-01-01"}, "expires_in"),
        ({"name": "x", "groups": [""]}, "groups"),
        ({"name": "x", "groups": "engineering"}, "groups"),
        ({"name": "x", "key": "clr_mine"}, "key"),
    ],
)
async def test_when_the_body_is_wrong_then_400_naming_the_field_and_no_key_is_made(
    gateway: Gateway, body: dict[str, Any], param: str
) -> None:
    before = gateway.stored()

    status, answer, _ = await gateway.call("POST", API, "ada", body)

    assert status == 400
    assert answer["error"]["param"] == param
    assert gateway.stored() == before


async def test_when_the_body_is_not_json_then_400(gateway: Gateway) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(gateway.url + API, headers=gateway.people.headers("ada"), data=b"{name") as response,
    ):
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_json"


async def test_when_the_operations_are_called_directly_then_they_check_the_role_as_the_api_does(
    gateway: Gateway,
) -> None:
    made = await gateway.api.create_key(ADA, new_key_body({"name": "from-the-console"}))

    assert made.owner == "ada"
    assert made.id in [k.id for k in (await gateway.api.list_keys(ADA)).data]
    assert (await gateway.api.revoke_key(ADA, made.id)).status == "revoked"
    for operation in (
        gateway.api.list_keys(Identity.anonymous()),
        gateway.api.revoke_key(Identity(subject="sam", groups=("engineering",)), made.id),
    ):
        with pytest.raises(PermissionDenied):
            await operation


def test_when_a_body_has_a_bad_expiry_then_the_error_names_the_forms() -> None:
    with pytest.raises(InvalidRequest, match="90d, 12h, 2w"):
        new_key_body({"name": "x", "expires_in": "tomorrow"})


async def test_when_api_keys_are_disabled_then_the_error_names_the_setting(
    tmp_path: Path, fake_upstream: FakeUpstream
) -> None:
    config = gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["llama-internal"]}],
        policy={"file": str(tmp_path / "policy.yaml")},
    )
    (tmp_path / "policy.yaml").write_text(
        "version: 1\nclearances:\n  - users: [ada]\n    level: public\n    roles: [admin]\n", encoding="utf-8"
    )
    api = create_app(config)[KEYS_API]

    with pytest.raises(NotFound, match=r"auth\.api_keys\.enabled") as raised:
        await api.list_keys(Identity(subject="ada"))
    assert raised.value.code == "api_keys_disabled"
