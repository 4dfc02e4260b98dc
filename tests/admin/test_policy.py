"""The policy admin API on a real gateway (the example approval policy, API keys as credentials): the live policy
summarised, its versions and their diff, and a text tried under the live policy and a draft, with the what-if count
over recorded traffic. Reading and trying need the approver, auditor or admin role; the text tried is never
recorded nor logged; ``clearance policy test`` decides exactly as the API does."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer
from typer.testing import CliRunner

from clearance.admin.approvals import decode_cursor
from clearance.admin.policy import (
    MAX_TEST_BODY_BYTES,
    POLICY_API,
    diff_lines,
    encode_cursor,
    parse_test_body,
)
from clearance.admin.policy_resources import PolicyVersionResource
from clearance.app import AUDIT, POLICY, create_app
from clearance.audit.store import SqlAuditStore
from clearance.cli import app as cli
from clearance.exceptions import InvalidRequest, PayloadTooLarge
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.admin.gateway import POLICY as EXAMPLE
from tests.admin.gateway import People
from tests.conftest import gateway_config

API = "/admin/v1/policy"
TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
CARD = "4111-1111-1111-1111"
SECRET_TEXT = f"deploy with token {TOKEN} please"
ENGINEER = {"user": "sam", "groups": ["engineering"]}
BLOCK_SECRETS = """version: 1
clearances:
  - {groups: [engineering], level: confidential}
  - {groups: [security], level: restricted, roles: [user, approver]}
  - {groups: [audit], level: public, roles: [auditor]}
models: [{name: llama-internal, max_level: restricted}]
rules:
  - id: no-secrets-at-all
    when: {types: [GITHUB_TOKEN]}
    action: block
    message: keep tokens out of prompts
"""
ALLOW_ALL = """version: 1
clearances:
  - {groups: [engineering], level: restricted}
  - {groups: [security], level: restricted, roles: [user, approver]}
  - {groups: [audit], level: public, roles: [auditor]}
models: [{name: llama-internal, max_level: restricted}]
"""


@dataclass
class Gateway:
    url: str
    people: People
    server: TestServer
    policy_file: Path

    async def get(self, path: str, who: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = self.people.headers(who) if who else {}
        async with aiohttp.ClientSession() as session, session.get(self.url + path, headers=headers) as response:
            return response.status, await response.json()

    async def post(self, body: Any, who: str | None = "audrey", raw: bytes | None = None) -> tuple[int, dict[str, Any]]:
        headers = self.people.headers(who) if who else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.url + API + "/test", json=None if raw is not None else body, data=raw, headers=headers
            ) as response,
        ):
            return response.status, await response.json()


@pytest.fixture
async def gw(tmp_path: Path, fake_upstream: FakeUpstream) -> AsyncIterator[Gateway]:
    """The example approval policy (a copy, to write new versions over), and two recorded requests by engineers:
    one with a token (held for approval), one without (allowed)."""
    policy_file = tmp_path / "policy.yaml"
    shutil.copyfile(EXAMPLE, policy_file)
    config = gateway_config(
        tmp_path,
        [
            {
                "name": "fake",
                "base_url": fake_upstream.base_url,
                "models": [{"name": "llama-internal", "aliases": ["li"]}],
            }
        ],
        policy={"file": str(policy_file), "reload_interval": 3600},
        auth={"api_keys": {"enabled": True}},
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        people = People.enrol(server.app, config.database.url)
        base = str(server.make_url("")).rstrip("/")
        async with openai.AsyncOpenAI(base_url=base + "/v1", api_key=people.keys["sam"], max_retries=0) as client:
            for text in ("hello there", SECRET_TEXT):
                try:
                    await client.chat.completions.create(
                        model="llama-internal", messages=[{"role": "user", "content": text}]
                    )
                except openai.PermissionDeniedError:
                    assert text == SECRET_TEXT  # approval_required
        await server.app[AUDIT].flush()
        yield Gateway(base, people, server, policy_file)
    finally:
        await server.close()


async def test_when_callers_without_a_policy_role_ask_then_they_are_refused(gw: Gateway) -> None:
    body = {"identity": ENGINEER, "model": "llama-internal", "text": "hi"}
    for path in (API, API + "/versions"):
        assert (await gw.get(path))[0] == 401  # the HTTP API always wants to know who asks
        status, error = await gw.get(path, "sam")  # role user only
        assert (status, error["error"]["code"]) == (403, "policy_role_required")
    status, error = await gw.post(body, "sam")
    assert (status, error["error"]["code"]) == (403, "policy_role_required")
    for who in ("alice", "audrey"):  # an approver, an auditor
        assert (await gw.get(API, who))[0] == 200


async def test_when_an_auditor_reads_the_policy_then_it_is_summarised_in_order_with_its_version(gw: Gateway) -> None:
    status, body = await gw.get(API, "audrey")

    holder = gw.server.app[POLICY]
    assert status == 200
    assert (body["digest"], body["source"], body["loaded_at"]) == (
        holder.policy.digest,
        str(gw.policy_file),
        holder.loaded.loaded_at,
    )
    assert [lv["name"] for lv in body["levels"]] == ["public", "internal", "confidential", "restricted"]
    assert [(c["groups"], c["level"], c["roles"]) for c in body["clearances"]][1] == (
        ["security"],
        "restricted",
        ["user", "approver"],
    )
    assert [(c["kind"], c["name"], c["max_level"]) for c in body["ceilings"]] == [
        ("model", "llama-internal", "restricted"),
        ("model", "codellama-hosted", "internal"),
    ]
    [rule] = body["rules"]
    assert (rule["position"], rule["id"], rule["action"], rule["record"]) == (
        1,
        "secrets-need-approval",
        "require_approval",
        "full",
    )
    assert rule["when"]["groups"] == ["engineering"] and "GITHUB_TOKEN" in rule["when"]["types"]
    assert body["text"] == EXAMPLE.read_text()
    assert gw.server.app[POLICY_API].models() == ["llama-internal"]


async def test_when_the_policy_is_reloaded_then_both_versions_are_listed_shown_and_diffed(gw: Gateway) -> None:
    holder = gw.server.app[POLICY]
    first = holder.policy.digest
    gw.policy_file.write_text(BLOCK_SECRETS)
    assert holder.reload() is True
    second = holder.policy.digest

    listed: list[dict[str, Any]] = []
    for _ in range(200):  # the history is written by the recorder's task: a bounded wait for the reload's row
        status, page = await gw.get(API + "/versions", "alice")
        listed = page["data"]
        if len(listed) == 2:
            break
    assert [(v["digest"], v["live"], v["text"]) for v in listed] == [(second, True, None), (first, False, None)]

    status, page = await gw.get(API + "/versions?limit=1", "alice")
    assert [v["digest"] for v in page["data"]] == [second] and page["next_cursor"]
    status, page = await gw.get(f"{API}/versions?limit=1&cursor={page['next_cursor']}", "alice")
    assert [v["digest"] for v in page["data"]] == [first] and page["next_cursor"] is None

    status, version = await gw.get(f"{API}/versions/{second}", "alice")
    assert (status, version["text"]) == (200, BLOCK_SECRETS)

    status, diff = await gw.get(f"{API}/diff?from={first}&to={second}", "audrey")
    assert status == 200
    assert {"kind": "added", "text": "  - id: no-secrets-at-all"} in diff["lines"]
    assert {"kind": "removed", "text": "  - id: secrets-need-approval"} in diff["lines"]
    assert "+  - id: no-secrets-at-all\n" in diff["diff"]


async def test_when_a_version_is_asked_by_a_bad_or_unknown_digest_then_400_and_404(gw: Gateway) -> None:
    status, error = await gw.get(f"{API}/versions/not-a-digest", "audrey")
    assert (status, error["error"]["param"]) == (400, "digest")
    status, error = await gw.get(f"{API}/versions/{'0' * 64}", "audrey")
    assert (status, error["error"]["code"]) == (404, "policy_version_not_found")
    status, error = await gw.get(f"{API}/diff?from={'0' * 64}", "audrey")
    assert (status, error["error"]["param"]) == (400, "to")


async def test_when_a_text_the_live_policy_holds_is_tried_then_the_decision_and_rule_show_and_nothing_is_sent(
    gw: Gateway,
) -> None:
    status, result = await gw.post({"identity": ENGINEER, "model": "llama-internal", "text": SECRET_TEXT})

    assert status == 200
    live = result["live"]
    assert (live["action"], live["rule"], live["types"], live["sent"]) == (
        "require_approval",
        "secrets-need-approval",
        {"GITHUB_TOKEN": 1},
        None,
    )
    assert live["policy_digest"] == gw.server.app[POLICY].policy.digest
    assert result["draft"] is None and result["what_if"] is None


async def test_when_a_draft_is_given_then_it_decides_beside_the_live_policy_with_the_what_if_count(
    gw: Gateway,
) -> None:
    status, result = await gw.post({"identity": ENGINEER, "model": "li", "text": SECRET_TEXT, "draft": BLOCK_SECRETS})

    assert status == 200, result
    assert (result["live"]["action"], result["live"]["rule"]) == ("require_approval", "secrets-need-approval")
    draft = result["draft"]
    assert (draft["action"], draft["rule"], draft["message"], draft["sent"]) == (
        "block",
        "no-secrets-at-all",
        "keep tokens out of prompts",
        None,
    )
    what_if = result["what_if"]
    # the recorded request with the token was held for approval, and would now be blocked; the other is unchanged
    assert (what_if["read"], what_if["decided"], what_if["changed"], what_if["window"]) == (2, 2, 1, 1000)
    [change] = what_if["changes"]
    assert (change["from_action"], change["from_rule"], change["to_action"], change["to_rule"]) == (
        "require_approval",
        "secrets-need-approval",
        "block",
        "no-secrets-at-all",
    )


async def test_when_a_draft_allows_what_the_live_policy_masks_then_the_masked_and_the_plain_texts_show(
    gw: Gateway,
) -> None:
    text = f"card {CARD} on file"
    status, result = await gw.post({"identity": ENGINEER, "model": "llama-internal", "text": text, "draft": ALLOW_ALL})

    assert status == 200
    assert result["live"]["action"] == "mask" and CARD not in result["live"]["sent"]
    assert result["live"]["sent"].endswith("1111 on file")  # cards are masked partially
    assert (result["draft"]["action"], result["draft"]["sent"]) == ("allow", text)


async def test_when_a_draft_is_invalid_then_400_lists_every_error_with_its_key_path(gw: Gateway) -> None:
    draft = "version: 1\nclearances: [{groups: [g], level: secret}]\nrules: [{id: r, action: explode}]\n"
    status, error = await gw.post({"identity": ENGINEER, "model": "llama-internal", "text": "x", "draft": draft})

    assert (status, error["error"]["code"], error["error"]["param"]) == (400, "invalid_policy", "draft")
    paths = [e["path"] for e in error["error"]["errors"]]
    assert "clearances.0.level" in paths and "rules.0.action" in paths


async def test_when_a_test_body_is_malformed_or_too_large_then_it_is_refused(gw: Gateway) -> None:
    status, error = await gw.post(None, raw=b"{not json")
    assert (status, error["error"]["code"]) == (400, "invalid_json")
    status, error = await gw.post({"model": "llama-internal"})
    assert (status, error["error"]["param"]) == (400, "text")
    status, error = await gw.post({"identity": {"user": "a", "service_account": "b"}, "model": "m", "text": "x"})
    assert (status, error["error"]["param"]) == (400, "identity")
    status, error = await gw.post(None, raw=b'{"text": "' + b"a" * MAX_TEST_BODY_BYTES + b'"}')
    assert (status, error["error"]["code"]) == (413, "payload_too_large")


async def test_when_a_text_is_tried_then_it_is_neither_recorded_nor_logged(
    gw: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    store = gw.server.app[AUDIT]
    assert isinstance(store, SqlAuditStore)
    await store.flush()
    before = len(store.recent(1000))
    caplog.set_level(logging.DEBUG)
    text = f"card {CARD} and token {TOKEN}"

    status, result = await gw.post({"identity": ENGINEER, "model": "llama-internal", "text": text, "draft": ALLOW_ALL})

    await store.flush()
    assert status == 200 and result["draft"]["sent"] == text  # the draft lets it through: shown as it would be sent
    assert len(store.recent(1000)) == before
    assert CARD not in caplog.text and TOKEN not in caplog.text


async def test_when_the_operation_is_called_directly_then_it_takes_an_identity_and_checks_its_role(
    gw: Gateway,
) -> None:
    api = gw.server.app[POLICY_API]
    body = parse_test_body(b'{"model": "llama-internal", "text": "hello"}')
    result = await api.test(Identity("audrey", "service", groups=("audit",)), body)
    assert result.live.action == "block"  # no identity given: tried as anonymous, whom this policy does not clear
    with pytest.raises(Exception, match="approver, auditor or admin"):
        await api.test(Identity.anonymous(), body)  # the console's no-auth mode gets no role from this policy


@pytest.mark.parametrize(
    ("text", "who"),
    [
        (SECRET_TEXT, ["--user", "sam", "--groups", "engineering"]),
        (f"mail jane.doe@acme.io card {CARD}", ["--user", "sam", "--groups", "engineering"]),
        (f"mail jane.doe@acme.io card {CARD}", ["--service-account", "ci-bot", "--groups", "security"]),
        (f"card {CARD}", []),
    ],
)
async def test_when_the_cli_and_the_api_try_the_same_request_then_they_decide_alike(
    gw: Gateway, text: str, who: list[str]
) -> None:
    """One path for one job: ``clearance policy test`` and ``POST /admin/v1/policy/test`` call one function."""
    result = CliRunner().invoke(cli, ["policy", "test", str(EXAMPLE), text, "--model", "llama-internal", *who])
    printed = {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in result.output.splitlines()) if v}
    flags = dict(zip(who[::2], who[1::2], strict=True))
    identity = {
        "user": flags.get("--user"),
        "service_account": flags.get("--service-account"),
        "groups": [flags["--groups"]] if "--groups" in flags else [],
    }

    status, answer = await gw.post({"identity": identity, "model": "llama-internal", "text": text})

    live = answer["live"]
    assert status == 200
    assert (printed["decision"], printed["rule"], printed["reasons"], printed["level"].split()[0]) == (
        live["action"],
        live["rule"],
        ", ".join(live["reasons"]),
        live["level"],
    )
    sent = printed["sent"]
    assert sent == (live["sent"] if live["sent"] is not None else "(nothing: the request is not forwarded)")


def test_when_a_cursor_is_encoded_then_it_decodes_and_a_forged_one_is_refused() -> None:
    version = PolicyVersionResource(
        digest="a" * 64, source="s", first_loaded_at=12.5, last_loaded_at=13.0, instance="i", live=False, text=None
    )
    assert decode_cursor(encode_cursor(version)) == (12.5, "a" * 64)
    for forged in ("!!", "WyJyIiwgMV0", "bnVsbA"):
        with pytest.raises(InvalidRequest):
            decode_cursor(forged)


def test_when_two_texts_are_diffed_then_each_line_is_marked_and_the_same_texts_give_no_diff() -> None:
    text, lines = diff_lines("a\nb\nc\n", "a\nB\nc\nd\n", "old", "new")
    assert [(line.kind, line.text) for line in lines] == [
        ("header", "--- old"),
        ("header", "+++ new"),
        ("hunk", "@@ -1,3 +1,4 @@"),
        ("context", "a"),
        ("removed", "b"),
        ("added", "B"),
        ("context", "c"),
        ("added", "d"),
    ]
    assert text.startswith("--- old\n+++ new\n")
    assert diff_lines("same\n", "same\n", "x", "y") == ("", [])


def test_when_a_test_body_is_larger_than_the_bound_then_parsing_refuses_it() -> None:
    with pytest.raises(PayloadTooLarge):
        parse_test_body(b" " * (MAX_TEST_BODY_BYTES + 1))
