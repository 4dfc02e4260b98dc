"""The policy in the data path: per identity, per model, per class of data, with reasons the caller can read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest

from clearance.auth.keys import ApiKeyStore
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

EXAMPLES = Path(__file__).parent.parent.parent / "examples" / "policies"
TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
EMAIL = "jane.doe@acme-corp.io"


async def policy_gateway(
    make_gateway: GatewayFactory, up: FakeUpstream, tmp_path: Path, policy: str, models: list[str]
) -> tuple[RunningGateway, ApiKeyStore]:
    gw = await make_gateway(
        [{"name": "fake", "base_url": up.base_url, "models": models}],
        policy={"file": str(EXAMPLES / policy)},
        auth={"api_keys": {"enabled": True}},
    )
    return gw, ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")


async def chat(
    gw: RunningGateway, key: str, model: str, content: str, **headers: str
) -> tuple[int, Any, dict[str, str]]:
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    async with (
        aiohttp.ClientSession() as s,
        s.post(
            gw.base_url + "/chat/completions", json=body, headers={"Authorization": f"Bearer {key}", **headers}
        ) as r,
    ):
        return r.status, await r.json(), dict(r.headers)


async def test_support_team_sees_placeholders_go_out_and_originals_come_back(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gw, keys = await policy_gateway(make_gateway, fake_upstream, tmp_path, "support-team.yaml", ["llama-internal"])
    _, key = keys.create(owner="sam@example.com", groups=["support"], expires_at=None)
    fake_upstream.behaviour.reply = "Reply to <EMAIL_ADDRESS_1> today."
    status, body, headers = await chat(gw, key, "llama-internal", f"Customer {EMAIL} asks for a refund")
    assert status == 200
    assert fake_upstream.received[0].body["messages"][0]["content"] == "Customer <EMAIL_ADDRESS_1> asks for a refund"
    assert body["choices"][0]["message"]["content"] == f"Reply to {EMAIL} today."
    assert headers["X-Clearance-Rule"] == "support-tickets"
    assert headers["X-Clearance-Decision"] == "mask"
    keys.close()


@pytest.mark.parametrize(
    ("groups", "model", "reasons"),
    [
        (["contractors"], "llama-internal", {"default_deny", "unknown_identity"}),
        (["support"], "llama-cloud", {"default_deny", "unknown_model"}),
    ],
)
async def test_when_refused_then_403_with_rule_reasons_and_what_to_do(
    make_gateway: GatewayFactory,
    fake_upstream: FakeUpstream,
    tmp_path: Path,
    groups: list[str],
    model: str,
    reasons: set[str],
) -> None:
    gw, keys = await policy_gateway(
        make_gateway, fake_upstream, tmp_path, "support-team.yaml", ["llama-internal", "llama-cloud"]
    )
    _, key = keys.create(owner="x@example.com", groups=groups, expires_at=None)
    status, body, headers = await chat(gw, key, model, f"Customer {EMAIL}")
    assert status == 403
    error = body["error"]
    assert error["type"] == "permission_error"
    assert error["code"] == "blocked_by_policy"
    assert set(error["reasons"]) == reasons
    assert error["rule"] == "default"
    assert error["message"]
    assert headers["X-Clearance-Decision"] == "block"
    assert fake_upstream.received == []
    [record] = await gw.records()
    assert (record["status"], record["decision"], record["subject"]) == (403, "block", "x@example.com")
    keys.close()


async def test_a_secret_from_engineering_waits_for_approval_and_says_whom_to_ask(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gw, keys = await policy_gateway(
        make_gateway, fake_upstream, tmp_path, "engineering-secrets-approval.yaml", ["llama-internal"]
    )
    _, key = keys.create(owner="eve@example.com", groups=["engineering"], expires_at=None)
    status, body, _ = await chat(gw, key, "llama-internal", f"why does {TOKEN} fail?")
    assert status == 403
    assert body["error"]["code"] == "approval_required"
    assert "security" in body["error"]["message"]
    assert TOKEN not in str(body)
    assert fake_upstream.received == []
    keys.close()


async def test_declared_label_below_what_was_found_is_a_recorded_mismatch(
    gateway: RunningGateway, fake_upstream: FakeUpstream
) -> None:
    body = {"model": "fake-model", "messages": [{"role": "user", "content": f"token {TOKEN}"}]}
    async with (
        aiohttp.ClientSession() as s,
        s.post(gateway.base_url + "/chat/completions", json=body, headers={"X-Data-Classification": "public"}) as r,
    ):
        assert r.status == 200
        reasons = r.headers["X-Clearance-Reasons"].split(",")
    assert "label_mismatch" in reasons
    assert TOKEN not in fake_upstream.all_text_received()  # the detected level wins
    [record] = await gateway.records()
    assert record["declared_label"] == "public"
    assert "label_mismatch" in record["reasons"]
