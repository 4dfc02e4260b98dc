"""Requests held for approval, through the official ``openai`` SDK against the gateway and the upstream double.

Approvers act through the approval store's lifecycle (the admin API comes later); time is a clock the test moves.
The policy is ``examples/policies/engineering-secrets-approval.yaml``: an engineer's secret needs one member of
``security`` to approve, and the grant lasts four hours.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from openai.types.chat import ChatCompletionMessageParam

from clearance.app import APPROVALS, NOTIFICATIONS, POLICY, SIGNALS
from clearance.approvals.lifecycle import approve, cancel, deny
from clearance.approvals.model import MAX_REASON_CHARS, ApprovalRequest, Requester
from clearance.approvals.settings import ApprovalSettings
from clearance.approvals.store import ApprovalStore
from clearance.approvals.webhook import SIGNATURE_HEADER, verify_signature
from clearance.auth.keys import ApiKeyStore
from clearance.exceptions import ApprovalNotFound, InvalidRequest, TooManyWaiting
from clearance.models import ApprovalRequirement, Decision, Identity
from clearance.proxy.approval_gate import (
    APPROVAL_HEADER,
    BREAK_GLASS_HEADER,
    REASON_HEADER,
    WAIT_CAPPED_HEADER,
    WAIT_HEADER,
    ApprovalGate,
    requester_of,
    wait_seconds,
)
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

POLICY_FILE = Path(__file__).parent.parent.parent / "examples" / "policies" / "engineering-secrets-approval.yaml"
TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"
EMAIL = "jane.doe@acme-corp.io"
CARD = "4111 1111 1111 1111"
SECURITY = Identity(subject="sec@example.com", email="sec@example.com", groups=("security",))
START = 1_800_000_000.0
EXPIRES = "2027-01-15T09:00:00Z"
TOOL: dict[str, Any] = {"type": "function", "function": {"name": "deploy", "parameters": {"type": "object"}}}


@dataclass
class Clock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    gw: RunningGateway
    clock: Clock
    eve: str
    """An engineer's API key."""
    bob: str
    """Another engineer's API key."""
    olga: str
    """An engineer on call: may break the glass."""

    @property
    def store(self) -> ApprovalStore:
        return self.gw.app[APPROVALS]

    def client(self, key: str) -> openai.AsyncOpenAI:
        return openai.AsyncOpenAI(base_url=self.gw.base_url, api_key=key, max_retries=0)

    async def ask(
        self, key: str, content: str, *, model: str = "llama-internal", **headers: str
    ) -> openai.types.chat.ChatCompletion:
        async with self.client(key) as client:
            return await client.chat.completions.create(
                model=model, messages=[{"role": "user", "content": content}], extra_headers=headers
            )

    async def refused(self, key: str, content: str, *, model: str = "llama-internal", **headers: str) -> Any:
        with pytest.raises(openai.APIStatusError) as info:
            await self.ask(key, content, model=model, **headers)
        return info.value

    async def held(self, key: str, content: str, *, model: str = "llama-internal", **headers: str) -> str:
        """Send a request that needs approval; the id of the approval it is held for."""
        error = await self.refused(key, content, model=model, **headers)
        assert (error.status_code, error.code) == (403, "approval_required")
        approval_id: str = error.body["approval"]["id"]
        return approval_id

    def approve(self, approval_id: str) -> ApprovalRequest:
        return self.store.apply(approval_id, lambda a: approve(a, SECURITY, "looked fine", now=self.clock()))


async def make_setup(
    make_gateway: GatewayFactory, up: FakeUpstream, tmp_path: Path, policy_file: Path = POLICY_FILE, **approvals: Any
) -> AsyncIterator[Setup]:
    clock = Clock()
    gw = await make_gateway(
        [{"name": "fake", "base_url": up.base_url, "models": ["llama-internal", "codellama-hosted"]}],
        clock=clock,
        policy={"file": str(policy_file)},
        auth={"api_keys": {"enabled": True}},
        approvals=approvals,
    )
    keys = ApiKeyStore(f"sqlite:///{tmp_path / 'audit.db'}")
    _, eve = keys.create(owner="eve@example.com", groups=["engineering"], expires_at=None)
    _, bob = keys.create(owner="bob@example.com", groups=["engineering"], expires_at=None)
    _, olga = keys.create(owner="olga@example.com", groups=["engineering", "oncall"], expires_at=None)
    yield Setup(gw, clock, eve, bob, olga)
    keys.close()


@pytest.fixture
async def setup(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Setup]:
    async for made in make_setup(make_gateway, fake_upstream, tmp_path):
        yield made


async def test_when_a_request_needs_approval_then_403_names_the_approval_and_how_to_grant_it(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{REASON_HEADER: "prod is down"})

    assert (error.status_code, error.code) == (403, "approval_required")
    held = error.body["approval"]
    assert (held["state"], held["expires_at_epoch"], held["expires_at"]) == ("pending", START + 3600, EXPIRES)
    assert held["url"] == f"{setup.gw.url}/admin/v1/approvals/{held['id']}"
    assert held["approve_command"] == f"clearance approvals approve {held['id']}"
    assert (held["approvers"], held["approvals_needed"]) == (["security"], 1)
    assert held["id"] in error.message and "X-Clearance-Approval" in error.message
    assert error.response.headers["X-Clearance-Approval"] == held["id"]
    assert TOKEN not in str(error.body)
    assert fake_upstream.received == []
    approval = setup.store.get(held["id"])
    assert (approval.state, approval.requester.subject, approval.rule) == (
        "pending",
        "eve@example.com",
        "secrets-need-approval",
    )
    assert (approval.model, approval.endpoint, dict(approval.counts)) == (
        "llama-internal",
        "chat.completions",
        {"GITHUB_TOKEN": 1},
    )
    assert approval.requester_reason == "prod is down"
    assert approval.policy_version == setup.gw.app[POLICY].policy.digest
    [record] = await setup.gw.records()
    assert (record["status"], record["error_code"], record["approval_id"]) == (403, "approval_required", held["id"])


async def test_when_approved_then_the_same_request_goes_through_once_with_the_approval_on_its_record(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    setup.approve(approval_id)

    answer = await setup.ask(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})

    assert answer.choices[0].message.content
    [received] = fake_upstream.received
    # llama-internal may receive restricted data: the approved secret is what reaches it
    assert received.body["messages"][0]["content"] == f"why does {TOKEN} fail?"
    assert setup.store.get(approval_id).state == "used"
    records = await setup.gw.records()
    assert [(r["status"], r["approval_id"], r["decision"]) for r in records] == [
        (200, approval_id, "require_approval"),
        (403, approval_id, "require_approval"),
    ]

    again = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})
    assert (again.status_code, again.code) == (409, "approval_used")
    assert len(fake_upstream.received) == 1


async def test_when_approved_for_a_model_below_the_data_then_what_is_above_its_level_stays_masked(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?", model="codellama-hosted")
    setup.approve(approval_id)

    await setup.ask(setup.eve, f"why does {TOKEN} fail?", model="codellama-hosted", **{APPROVAL_HEADER: approval_id})

    [received] = fake_upstream.received
    assert TOKEN not in fake_upstream.all_text_received()
    assert "GITHUB_TOKEN" in received.body["messages"][0]["content"]


@pytest.mark.parametrize(("model", "sent_raw"), [("llama-internal", True), ("codellama-hosted", False)])
async def test_when_approvers_read_released_as_then_it_says_what_the_model_gets_once_approved(
    setup: Setup, fake_upstream: FakeUpstream, model: str, sent_raw: bool
) -> None:
    content = f"why does {TOKEN} fail? ask {EMAIL}"
    approval_id = await setup.held(setup.eve, content, model=model)
    released_as = setup.store.get(approval_id).released_as
    setup.approve(approval_id)

    await setup.ask(setup.eve, content, model=model, **{APPROVAL_HEADER: approval_id})

    received = fake_upstream.all_text_received()
    # every type said to go unmasked reaches the model as it is; every other one does not
    assert (released_as["GITHUB_TOKEN"] == "unmasked") is sent_raw
    assert (TOKEN in received) is sent_raw
    assert (EMAIL in received) is (released_as["EMAIL_ADDRESS"] == "unmasked")


@pytest.mark.parametrize(
    ("who", "content", "mismatch"),
    [("eve", f"why does {TOKEN} fail now?", "body"), ("bob", f"why does {TOKEN} fail?", "requester")],
)
async def test_when_a_grant_is_presented_for_another_body_or_by_another_identity_then_approval_mismatch(
    setup: Setup, fake_upstream: FakeUpstream, who: str, content: str, mismatch: str
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    setup.approve(approval_id)

    error = await setup.refused(getattr(setup, who), content, **{APPROVAL_HEADER: approval_id})

    assert (error.status_code, error.code, error.body["mismatch"]) == (403, "approval_mismatch", mismatch)
    assert fake_upstream.received == []
    assert setup.store.get(approval_id).state == "approved"  # still good for the approved request
    records = await setup.gw.records()
    assert (records[0]["error_code"], records[0]["approval_id"]) == ("approval_mismatch", approval_id)


@pytest.mark.parametrize(
    ("decided", "status", "code"), [("denied", 403, "approval_denied"), ("cancelled", 410, "approval_cancelled")]
)
async def test_when_the_approval_was_denied_or_cancelled_then_the_grant_is_refused_with_that_code(
    setup: Setup, fake_upstream: FakeUpstream, decided: str, status: int, code: str
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    if decided == "denied":
        setup.store.apply(approval_id, lambda a: deny(a, SECURITY, "not in prod", now=setup.clock()))
    else:
        setup.store.apply(approval_id, lambda a: cancel(a, a.requester, now=setup.clock()))

    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})

    assert (error.status_code, error.code) == (status, code)
    assert fake_upstream.received == []


async def test_when_an_approved_request_streams_then_it_goes_through_once_event_by_event(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": f"why does {TOKEN} fail?"}]
    async with setup.client(setup.eve) as client:
        with pytest.raises(openai.PermissionDeniedError) as info:
            await client.chat.completions.create(model="llama-internal", messages=messages, stream=True)
        approval_id = info.value.body["approval"]["id"]  # type: ignore[index]
        setup.approve(approval_id)

        stream = await client.chat.completions.create(
            model="llama-internal", messages=messages, stream=True, extra_headers={APPROVAL_HEADER: approval_id}
        )
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])

    assert text
    assert len(fake_upstream.received) == 1
    assert setup.store.get(approval_id).state == "used"


async def test_when_the_approval_is_still_pending_then_approval_pending(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")

    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})

    assert (error.status_code, error.code) == (409, "approval_pending")
    assert fake_upstream.received == []


@pytest.mark.parametrize("approved", [False, True])
async def test_when_the_request_or_its_grant_has_expired_then_approval_expired(
    setup: Setup, fake_upstream: FakeUpstream, approved: bool
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    if approved:
        setup.approve(approval_id)
        setup.clock.now += 4 * 3600  # the rule's grant_for
    else:
        setup.clock.now += 3600  # the pending lifetime

    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})

    assert (error.status_code, error.code) == (410, "approval_expired")
    assert fake_upstream.received == []


@pytest.mark.parametrize("presented", ["not an id", "A" * 32])
async def test_when_the_header_names_no_approval_then_approval_not_found_and_nothing_is_recorded_of_it(
    setup: Setup, presented: str
) -> None:
    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: presented})

    assert (error.status_code, error.code) == (404, "approval_not_found")
    assert presented not in error.message
    [record] = await setup.gw.records()
    assert record["approval_id"] is None


async def test_when_the_identical_request_is_sent_again_then_the_pending_approval_is_reused(setup: Setup) -> None:
    first = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    again = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    other = await setup.held(setup.eve, f"and {TOKEN}?")
    bobs = await setup.held(setup.bob, f"why does {TOKEN} fail?")

    assert first == again
    assert len({first, other, bobs}) == 3
    assert {a.id for a in setup.store.list(requester="eve@example.com")} == {first, other}


async def test_when_a_requester_has_max_pending_approvals_then_the_next_is_429(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for setup in make_setup(make_gateway, fake_upstream, tmp_path, max_pending=2):
        await setup.held(setup.eve, f"one {TOKEN}")
        await setup.held(setup.eve, f"two {TOKEN}")

        error = await setup.refused(setup.eve, f"three {TOKEN}")

        assert (error.status_code, error.code) == (429, "too_many_pending")
        assert await setup.held(setup.bob, f"three {TOKEN}")  # per requester


async def test_when_public_url_is_set_then_the_approval_link_uses_it(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for setup in make_setup(
        make_gateway, fake_upstream, tmp_path, public_url="https://gw.example.com/", pending_lifetime=60
    ):
        error = await setup.refused(setup.eve, f"why does {TOKEN} fail?")

        held = error.body["approval"]
        assert held["url"] == f"https://gw.example.com/admin/v1/approvals/{held['id']}"
        assert held["expires_at_epoch"] == START + 60


async def test_when_approvers_read_the_preview_and_the_reason_then_no_raw_value_is_in_them(setup: Setup) -> None:
    content = f"why does {TOKEN} fail for {EMAIL}, card {CARD}?"
    approval_id = await setup.held(setup.eve, content, **{REASON_HEADER: f"{EMAIL} asked me"})

    approval = setup.store.get(approval_id)

    for value in (TOKEN, EMAIL, CARD):
        assert value not in approval.preview
        assert value not in approval.requester_reason
    assert "why does" in approval.preview and "llama-internal" in approval.preview
    assert approval.requester_reason.endswith(" asked me")
    assert set(approval.counts) == {"GITHUB_TOKEN", "EMAIL_ADDRESS", "CREDIT_CARD"}


async def test_when_the_stated_reason_is_too_long_then_400_and_no_approval(setup: Setup) -> None:
    error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{REASON_HEADER: "x" * (MAX_REASON_CHARS + 1)})

    assert (error.status_code, error.code) == (400, "reason_too_long")
    assert setup.store.list() == []


async def test_when_spent_by_two_requests_at_once_then_exactly_one_goes_through(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    setup.approve(approval_id)

    async def send() -> str:
        try:
            await setup.ask(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})
        except openai.APIStatusError as error:
            return str(error.code)
        return "ok"

    outcomes = await asyncio.gather(send(), send(), send())

    assert sorted(outcomes) == ["approval_used", "approval_used", "ok"]
    assert len(fake_upstream.received) == 1


async def test_when_the_gate_is_given_an_id_of_another_shape_then_it_does_not_look_it_up(tmp_path: Path) -> None:
    store = ApprovalStore(f"sqlite:///{tmp_path / 'gate.db'}")
    store.create_tables()
    gate = ApprovalGate(store, ApprovalSettings())
    decision = Decision("require_approval", "r", (), "restricted")

    with pytest.raises(ApprovalNotFound) as info:
        await gate.spend(
            "../../etc/passwd", Identity(subject="eve"), body_sha256="0" * 64, endpoint="chat", decision=decision
        )

    assert "passwd" not in info.value.message
    store.close()


def test_when_an_identity_asks_then_it_is_the_requester_with_its_groups() -> None:
    identity = Identity(subject="eve", kind="service", email="eve@example.com", groups=("engineering",))

    assert requester_of(identity) == Requester("eve", "service", "eve@example.com", ("engineering",))
    keyed = Identity(subject="eve", kind="service", key_id="0a1b2c3d4e5f")
    assert requester_of(keyed).key_id == "0a1b2c3d4e5f"


async def test_when_a_decision_does_not_require_approval_then_the_gate_asks_for_none(tmp_path: Path) -> None:
    gate = ApprovalGate(ApprovalStore(f"sqlite:///{tmp_path / 'gate.db'}"), ApprovalSettings())

    with pytest.raises(ValueError, match="require_approval"):
        await gate.ask(
            identity=Identity(subject="eve"),
            model="m",
            endpoint="chat.completions",
            decision=Decision("allow", "default", (), "public"),
            preview="{}",
            body_sha256="0" * 64,
            reason="",
            released_as={},
        )
    gate.store.close()


# -- approvers are told ------------------------------------------------------------------------------------------

HOOK_SECRET = "whsec-approvals-test"


async def test_when_a_request_is_held_then_the_approvers_webhook_is_told_once_with_the_masked_preview(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_APPROVAL_HOOK", HOOK_SECRET)
    received: list[tuple[bool, bytes]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append((verify_signature(HOOK_SECRET, request.headers.get(SIGNATURE_HEADER), body, now=START), body))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        notifications = {
            "webhooks": [{"url": str(server.make_url("/hook")), "secret": {"env": "CLR_TEST_APPROVAL_HOOK"}}]
        }
        async for s in make_setup(
            make_gateway, fake_upstream, tmp_path, public_url="https://gw.example.com/", notifications=notifications
        ):
            first = await s.held(s.eve, f"deploy with {TOKEN}")
            assert await s.held(s.eve, f"deploy with {TOKEN}") == first  # the same request again: reused, not told
            dispatcher = s.gw.app[NOTIFICATIONS].dispatcher
            assert dispatcher is not None
            for _ in range(500):  # bounded: delivery is off the request path
                if dispatcher.pending == 0 and received:
                    break
                await asyncio.sleep(0.01)
            assert dispatcher.counts.sent == 1
    finally:
        await server.close()
    assert len(received) == 1
    verified, body = received[0]
    assert verified
    document = orjson.loads(body)
    assert (document["event"], document["approval"]["id"]) == ("requested", first)
    assert document["link"] == f"https://gw.example.com/console/approvals/{first}"
    assert document["api_link"] == f"https://gw.example.com/admin/v1/approvals/{first}"
    assert document["approval"]["counts"] == {"GITHUB_TOKEN": 1}
    assert "[GITHUB_TOKEN]" in document["approval"]["preview"]
    assert TOKEN.encode() not in body and TOKEN[4:20].encode() not in body


async def test_when_no_notifier_is_configured_then_nothing_is_started(setup: Setup) -> None:
    assert setup.gw.app[NOTIFICATIONS].dispatcher is None
    await setup.held(setup.eve, f"deploy with {TOKEN}")


async def test_when_an_approval_lapses_then_the_gateway_records_its_expiry_by_itself(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, pending_lifetime=60, sweep_interval=0.01):
        approval_id = await s.held(s.eve, f"deploy with {TOKEN}")
        assert s.store.get(approval_id).state == "pending"
        s.clock.now += 61
        for _ in range(500):  # bounded: the sweep runs in the background every 10 ms
            if s.store.get(approval_id).state == "expired":
                break
            await asyncio.sleep(0.01)
        assert s.store.get(approval_id).history[-1].state == "expired"


# -- the rule's reasons, break-glass -----------------------------------------------------------------------------


def policy_with(tmp_path: Path, **approval: Any) -> Path:
    """The example policy, its approval rule changed by ``approval`` (``reason: requester``, ...)."""
    data = yaml.safe_load(POLICY_FILE.read_text())
    data["rules"][0]["approval"].update(approval)
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("reason", [None, ""])
async def test_when_the_rule_asks_the_requester_for_a_reason_and_none_is_given_then_400_and_no_approval(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, reason: str | None
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, policy_with(tmp_path, reason="requester")):
        headers = {} if reason is None else {REASON_HEADER: reason}
        error = await s.refused(s.eve, f"why does {TOKEN} fail?", **headers)

        assert (error.status_code, error.code, error.param) == (400, "reason_required", REASON_HEADER)
        assert s.store.list() == []
        approval_id = await s.held(s.eve, f"why does {TOKEN} fail?", **{REASON_HEADER: "prod is down"})
        assert s.store.get(approval_id).reason_from == "requester"
        assert fake_upstream.received == []


async def test_when_an_on_call_engineer_breaks_the_glass_then_the_request_goes_through_at_once_flagged_for_review(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    answer = await setup.ask(
        setup.olga, f"why does {TOKEN} fail?", **{BREAK_GLASS_HEADER: f"prod down, {EMAIL} paged me"}
    )

    assert answer.choices[0].message.content
    [received] = fake_upstream.received
    assert received.body["messages"][0]["content"] == f"why does {TOKEN} fail?"  # released as under a grant
    [approval] = setup.store.list()
    assert (approval.state, approval.break_glass, approval.review) == ("used", True, "pending")
    assert approval.approved_by == ("olga@example.com",)
    assert [t.state for t in approval.history] == ["pending", "approved", "used"]
    assert EMAIL not in approval.requester_reason and approval.requester_reason.startswith("prod down, ")
    assert TOKEN not in approval.preview
    [record] = await setup.gw.records()
    assert (record["status"], record["approval_id"], record["decision"]) == (200, approval.id, "require_approval")


@pytest.mark.parametrize(
    ("who", "reason", "status", "code"),
    [
        ("eve", "prod down", 403, "break_glass_not_allowed"),  # not on call
        ("olga", "", 400, "reason_required"),
        ("olga", "x" * (MAX_REASON_CHARS + 1), 400, "reason_too_long"),
    ],
)
async def test_when_the_glass_may_not_be_broken_then_the_request_is_refused_and_nothing_is_granted(
    setup: Setup, fake_upstream: FakeUpstream, who: str, reason: str, status: int, code: str
) -> None:
    error = await setup.refused(getattr(setup, who), f"why does {TOKEN} fail?", **{BREAK_GLASS_HEADER: reason})

    assert (error.status_code, error.code) == (status, code)
    if status == 400:
        assert error.param == BREAK_GLASS_HEADER
    assert fake_upstream.received == []
    assert setup.store.list() == []


async def test_when_the_rule_has_no_break_glass_then_nobody_may_break_it(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, policy_with(tmp_path, break_glass=None)):
        error = await s.refused(s.olga, f"why does {TOKEN} fail?", **{BREAK_GLASS_HEADER: "prod down"})

        assert (error.status_code, error.code) == (403, "break_glass_not_allowed")
        assert fake_upstream.received == []


async def test_when_the_gate_breaks_the_glass_then_every_notifier_is_told_at_once(tmp_path: Path) -> None:
    store = ApprovalStore(f"sqlite:///{tmp_path / 'gate.db'}")
    store.create_tables()
    told: list[tuple[str, str, bool]] = []
    gate = ApprovalGate(
        store,
        ApprovalSettings(),
        clock=lambda: START,
        notify=lambda kind, a: told.append((kind, a.state, a.break_glass)),
    )
    requirement = ApprovalRequirement(("security",), break_glass_groups=("oncall",))
    decision = Decision("require_approval", "r", (), "restricted", approval=requirement, policy_version="p" * 64)

    used = await gate.break_glass(
        identity=Identity(subject="olga", groups=("oncall",)),
        model="m",
        endpoint="chat.completions",
        decision=decision,
        preview="{}",
        body_sha256="0" * 64,
        reason="prod down",
        released_as={"GITHUB_TOKEN": "unmasked"},
    )

    assert told == [("break_glass", "approved", True)]
    assert used.released_as == {"GITHUB_TOKEN": "unmasked"}
    assert (used.state, used.expires_at) == ("used", START + 3600)
    store.close()


async def test_when_nobody_decides_in_time_then_the_gateway_escalates_the_approval_by_itself(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, sweep_interval=0.01):
        approval_id = await s.held(s.eve, f"deploy with {TOKEN}")
        held = s.store.get(approval_id)
        assert (held.escalate_to, held.escalate_at) == (("security-leads",), START + 1800)  # the rule's 30m
        s.clock.now += 1800
        for _ in range(500):  # bounded: the sweep runs in the background every 10 ms
            if s.store.get(approval_id).escalated_at is not None:
                break
            await asyncio.sleep(0.01)
        escalated = s.store.get(approval_id)
        assert (escalated.state, escalated.approvers) == ("pending", ("security", "security-leads"))
        assert [t.reason for t in escalated.history if t.actor == "system"] == ["escalated to security-leads"]


# -- attacks on a grant: it is good for exactly the approved request ----------------------------------------------


async def send_raw(s: Setup, key: str, path: str, body: bytes, **headers: str) -> tuple[int, dict[str, Any]]:
    """POST ``body`` as it is (any key order, any whitespace) to ``path`` of the gateway."""
    sent = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **headers}
    async with aiohttp.ClientSession() as session, session.post(s.gw.url + path, data=body, headers=sent) as answer:
        return answer.status, orjson.loads(await answer.read()) if answer.content_type.endswith("json") else {}


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "llama-internal", "messages": [{"role": "user", "content": content}], **extra}


async def test_when_the_approved_body_comes_in_another_key_order_and_spacing_then_the_grant_covers_it(
    setup: Setup, fake_upstream: FakeUpstream
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    setup.approve(approval_id)
    # the same JSON value, written another way: keys reversed, spaces and newlines, an escaped character
    escaped = f"why does {TOKEN} fail\u003f"
    body = (
        '{ "messages" : [ {"content": "' + escaped + '",\n "role":"user"} ],\n\t"model": "llama-internal" }'
    ).encode()

    status, _ = await send_raw(setup, setup.eve, "/v1/chat/completions", body, **{APPROVAL_HEADER: approval_id})

    assert status == 200
    assert setup.store.get(approval_id).state == "used"


@pytest.mark.parametrize(
    ("path", "body", "mismatch"),
    [
        ("/v1/chat/completions", chat(f"why does {TOKEN} fail?", stream=True), "body"),
        ("/v1/chat/completions", chat(f"why does {TOKEN} fail?", n=5), "body"),
        ("/v1/chat/completions", chat(f"why does {TOKEN} fail?", tools=[TOOL]), "body"),
        ("/v1/chat/completions", {**chat(f"why does {TOKEN} fail?"), "model": "codellama-hosted"}, "body"),
        # unicode normalisation: the NFD form of a character is another string the model would read
        ("/v1/chat/completions", chat(f"why does {TOKEN} fail?\u0301"), "body"),
        # the very same body on Ollama's chat, which streams by default: not what was approved
        ("/api/chat", chat(f"why does {TOKEN} fail?"), "endpoint"),
    ],
)
async def test_when_a_grant_is_presented_with_the_body_changed_or_on_another_endpoint_then_approval_mismatch(
    setup: Setup, fake_upstream: FakeUpstream, path: str, body: dict[str, Any], mismatch: str
) -> None:
    approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
    setup.approve(approval_id)

    status, refused = await send_raw(setup, setup.eve, path, orjson.dumps(body), **{APPROVAL_HEADER: approval_id})

    error = refused["error"]
    assert (status, error["code"], error.get("mismatch")) == (403, "approval_mismatch", mismatch)
    assert fake_upstream.received == []
    assert setup.store.get(approval_id).state == "approved"  # still good for the approved request, once


async def test_when_a_grant_is_presented_after_a_policy_reload_then_approval_mismatch(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(POLICY_FILE.read_text())
    async for setup in make_setup(make_gateway, fake_upstream, tmp_path, policy_file):
        approval_id = await setup.held(setup.eve, f"why does {TOKEN} fail?")
        setup.approve(approval_id)
        policy_file.write_text(POLICY_FILE.read_text() + "\n# an edit anywhere in the file\n")
        assert setup.gw.app[POLICY].reload()

        error = await setup.refused(setup.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id})

    assert (error.status_code, error.code, error.body["mismatch"]) == (403, "approval_mismatch", "policy")
    assert fake_upstream.received == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/chat/completions",
            {
                "model": "llama-internal",
                "messages": [
                    {"role": "user", "content": "deploy"},
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "deploy", "arguments": orjson.dumps({"token": TOKEN}).decode()},
                            }
                        ],
                    },
                    {"role": "tool", "tool_call_id": "c1", "content": f"deployed with {TOKEN}"},
                ],
                "tools": [{**TOOL, "function": {**TOOL["function"], "description": f"card {CARD}"}}],
            },
        ),
        ("/v1/embeddings", {"model": "llama-internal", "input": [f"why does {TOKEN} fail?", CARD]}),
    ],
)
async def test_when_the_secret_is_in_tool_calls_tools_or_embeddings_input_then_the_preview_holds_none(
    setup: Setup, fake_upstream: FakeUpstream, path: str, body: dict[str, Any]
) -> None:
    status, refused = await send_raw(setup, setup.eve, path, orjson.dumps(body))

    assert (status, refused["error"]["code"]) == (403, "approval_required")
    approval = setup.store.get(refused["error"]["approval"]["id"])
    for shown in (approval.preview, orjson.dumps(refused).decode()):
        assert TOKEN not in shown and CARD not in shown
    assert "[GITHUB_TOKEN]" in approval.preview
    assert fake_upstream.received == []


# -- wait mode ---------------------------------------------------------------------------------------------------

WAIT_FAST: dict[str, Any] = {"poll_interval": 0.05, "keepalive_interval": 0.05}
"""Settings for wait tests: a waiter reads the store every 50 ms as well as on signals."""


async def until_waiting(s: Setup, count: int = 1) -> ApprovalRequest:
    """The pending approval a request is waiting on, once ``count`` requests wait (bounded: 10 s)."""
    signals = s.gw.app[SIGNALS]
    for _ in range(2000):
        if signals.waiting >= count:
            break
        await asyncio.sleep(0.005)
    assert signals.waiting >= count
    [approval] = s.store.list(state="pending")
    return approval


@pytest.fixture
async def waiting(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Setup]:
    async for made in make_setup(make_gateway, fake_upstream, tmp_path, **WAIT_FAST):
        yield made


@pytest.mark.parametrize(("model", "raw_upstream"), [("llama-internal", True), ("codellama-hosted", False)])
async def test_when_approved_while_the_caller_waits_then_the_request_goes_through_masked_per_the_decision(
    waiting: Setup, fake_upstream: FakeUpstream, model: str, raw_upstream: bool
) -> None:
    s = waiting
    asking = s.ask(s.eve, f"why does {TOKEN} fail?", model=model, **{WAIT_HEADER: "30"})

    async def approver() -> ApprovalRequest:
        approval = await until_waiting(s)
        return s.approve(approval.id)

    answer, approved = await asyncio.wait_for(asyncio.gather(asking, approver()), 10)

    assert answer.choices[0].message.content
    [received] = fake_upstream.received
    assert (TOKEN in fake_upstream.all_text_received()) is raw_upstream
    if not raw_upstream:
        assert "GITHUB_TOKEN" in received.body["messages"][0]["content"]
    assert s.store.get(approved.id).state == "used"
    [record] = await s.gw.records()
    assert (record["status"], record["approval_id"], record["decision"]) == (200, approved.id, "require_approval")


@pytest.mark.parametrize(
    ("decided", "status", "code"), [("deny", 403, "approval_denied"), ("cancel", 410, "approval_cancelled")]
)
async def test_when_denied_or_cancelled_while_the_caller_waits_then_that_precise_refusal(
    waiting: Setup, fake_upstream: FakeUpstream, decided: str, status: int, code: str
) -> None:
    s = waiting

    async def decider() -> None:
        approval = await until_waiting(s)
        if decided == "deny":
            s.store.apply(approval.id, lambda a: deny(a, SECURITY, "no", now=s.clock()))
        else:
            s.store.apply(approval.id, lambda a: cancel(a, a.requester, now=s.clock()))

    refused, _ = await asyncio.wait_for(
        asyncio.gather(s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "30"}), decider()), 10
    )

    assert (refused.status_code, refused.code) == (status, code)
    assert fake_upstream.received == []
    [record] = await s.gw.records()
    assert (record["error_code"], record["approval_id"]) == (code, refused.response.headers[APPROVAL_HEADER])


async def test_when_nobody_decides_within_the_wait_then_approval_required_and_the_approval_stays_pending(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting

    error = await asyncio.wait_for(s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "0.2"}), 10)

    assert (error.status_code, error.code) == (403, "approval_required")
    approval_id = error.body["approval"]["id"]
    assert s.store.get(approval_id).state == "pending"
    assert WAIT_CAPPED_HEADER not in error.response.headers
    assert fake_upstream.received == []


async def test_when_the_wait_asked_is_over_max_wait_then_it_is_cut_and_the_response_says_so(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, max_wait=0.2, **WAIT_FAST):
        error = await asyncio.wait_for(s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "3600"}), 10)

        assert (error.status_code, error.code) == (403, "approval_required")
        assert error.response.headers[WAIT_CAPPED_HEADER] == "0.2"


async def test_when_wait_mode_is_off_then_the_header_is_ignored_and_the_refusal_is_immediate(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    async for s in make_setup(make_gateway, fake_upstream, tmp_path, max_wait=0):
        error = await asyncio.wait_for(s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "3600"}), 10)

        assert (error.status_code, error.code) == (403, "approval_required")
        assert s.gw.app[SIGNALS].waiting == 0


@pytest.mark.parametrize("value", ["soon", "-1", "1e3", "nan", ""])
async def test_when_the_wait_header_is_not_a_number_of_seconds_then_400_naming_it_and_no_approval(
    waiting: Setup, value: str
) -> None:
    error = await waiting.refused(waiting.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: value})

    assert (error.status_code, error.code, error.param) == (400, "invalid_request", WAIT_HEADER)
    assert WAIT_HEADER in error.message
    assert waiting.store.list() == []


async def test_when_the_pending_request_lapses_while_the_caller_waits_then_approval_expired(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting

    async def time_passes() -> None:
        await until_waiting(s)
        s.clock.now += 3600  # the pending lifetime: the waiter's next read of the store sees it lapsed

    error, _ = await asyncio.wait_for(
        asyncio.gather(s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "30"}), time_passes()), 10
    )

    assert (error.status_code, error.code) == (410, "approval_expired")
    assert fake_upstream.received == []


async def test_when_a_pending_approval_is_presented_with_a_wait_then_it_is_waited_for_and_spent(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting
    approval_id = await s.held(s.eve, f"why does {TOKEN} fail?")

    async def approver() -> None:
        await until_waiting(s)
        s.approve(approval_id)

    answer, _ = await asyncio.wait_for(
        asyncio.gather(
            s.ask(s.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval_id, WAIT_HEADER: "30"}), approver()
        ),
        10,
    )

    assert answer.choices[0].message.content
    assert s.store.get(approval_id).state == "used"
    assert len(fake_upstream.received) == 1


async def test_when_the_waiting_caller_disconnects_then_the_approval_stays_pending_and_can_be_used_later(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting
    async with openai.AsyncOpenAI(base_url=s.gw.base_url, api_key=s.eve, max_retries=0, timeout=0.3) as client:
        with pytest.raises(openai.APITimeoutError):
            await client.chat.completions.create(
                model="llama-internal",
                messages=[{"role": "user", "content": f"why does {TOKEN} fail?"}],
                extra_headers={WAIT_HEADER: "60"},
            )
    signals = s.gw.app[SIGNALS]
    for _ in range(2000):  # bounded: the gateway notices the caller is gone and stops waiting
        if signals.waiting == 0:
            break
        await asyncio.sleep(0.005)
    assert signals.waiting == 0
    [approval] = s.store.list()
    assert approval.state == "pending"
    assert fake_upstream.received == []
    records = await s.gw.records()
    assert [(r["status"], r["error_code"]) for r in records] == [(499, "client_disconnected")]

    s.approve(approval.id)
    answer = await s.ask(s.eve, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: approval.id})

    assert answer.choices[0].message.content
    assert s.store.get(approval.id).state == "used"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("0", None),
        ("30", (30.0, False)),
        (" 2.5 ", (2.5, False)),
        ("301", (300.0, True)),
        ("999999999.999999", (300.0, True)),  # the longest number read: cut like any other
    ],
)
def test_when_the_wait_header_is_read_then_it_is_seconds_cut_to_max_wait(
    value: str | None, expected: tuple[float, bool] | None
) -> None:
    assert wait_seconds(value, ApprovalSettings()) == expected


@pytest.mark.parametrize("value", ["1e3", "-0", "30s", "0x10", "inf", "١٢", "1" * 10, "nan", "3\uff10", "1_0", ""])
def test_when_the_wait_header_is_not_plain_seconds_then_invalid_request(value: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        wait_seconds(value, ApprovalSettings())

    assert info.value.param == WAIT_HEADER


# -- attacks on wait mode: one requester cannot hold the gateway open ---------------------------------------------


@pytest.fixture
async def two_waits(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path) -> AsyncIterator[Setup]:
    async for made in make_setup(make_gateway, fake_upstream, tmp_path, max_waiting=2, **WAIT_FAST):
        yield made


async def test_when_a_requester_holds_max_waiting_requests_open_then_one_more_is_429_and_others_still_wait(
    two_waits: Setup, fake_upstream: FakeUpstream
) -> None:
    s = two_waits
    signals = s.gw.app[SIGNALS]

    async def wait_for_it(key: str) -> str:
        try:
            await s.ask(key, f"why does {TOKEN} fail?", **{WAIT_HEADER: "30"})
        except openai.APIStatusError as error:
            return str(error.code)
        return "ok"

    async def decide_when_three_wait(eves: ApprovalRequest) -> None:
        for _ in range(2000):  # bounded: 10 s
            if signals.waiting >= 3:
                break
            await asyncio.sleep(0.005)
        assert signals.waiting == 3
        s.approve(eves.id)
        [bobs] = [a for a in s.store.list(state="pending") if a.id != eves.id]
        s.store.apply(bobs.id, lambda a: deny(a, SECURITY, "no", now=s.clock()))

    async def attacker() -> str:
        eves = await until_waiting(s, 2)
        refused = await s.refused(s.eve, f"why does {TOKEN} fail?", **{WAIT_HEADER: "30"})
        assert (refused.status_code, refused.code, refused.type) == (429, "too_many_waiting", "rate_limit_error")
        assert TOKEN not in str(refused.body)
        # the limit is the requester's: another engineer still waits, until their approval is decided
        bob, _ = await asyncio.gather(wait_for_it(s.bob), decide_when_three_wait(eves))
        return bob

    *eves, bob = await asyncio.wait_for(asyncio.gather(wait_for_it(s.eve), wait_for_it(s.eve), attacker()), 20)

    # two waiters of one approval: its one use goes to exactly one of them
    assert (sorted(eves), bob) == (["approval_used", "ok"], "approval_denied")
    assert len(fake_upstream.received) == 1
    codes = sorted(str(r["error_code"]) for r in await s.gw.records())
    assert codes == sorted(["None", "approval_used", "too_many_waiting", "approval_denied"])


async def test_when_waiting_slots_are_taken_and_given_back_then_the_limit_is_per_requester(tmp_path: Path) -> None:
    store = ApprovalStore(f"sqlite:///{tmp_path / 'gate.db'}")
    gate = ApprovalGate(store, ApprovalSettings(max_waiting=1))
    eve, bob = Identity(subject="eve"), Identity(subject="bob")

    with gate.waiting_slot(eve), gate.waiting_slot(bob), pytest.raises(TooManyWaiting), gate.waiting_slot(eve):
        pass
    with gate.waiting_slot(eve):  # given back when the wait ended
        pass
    with pytest.raises(RuntimeError), gate.waiting_slot(eve):
        raise RuntimeError("a wait that failed")
    with gate.waiting_slot(eve):  # given back when the wait failed too
        pass
    store.close()


async def test_when_a_waiter_presents_its_pending_approval_with_another_body_then_it_is_refused_at_once(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting
    approval_id = await s.held(s.eve, f"why does {TOKEN} fail?")

    error = await s.refused(s.eve, f"why does {TOKEN} fail now?", **{APPROVAL_HEADER: approval_id, WAIT_HEADER: "30"})

    assert (error.status_code, error.code, error.body["mismatch"]) == (403, "approval_mismatch", "body")
    assert s.gw.app[SIGNALS].waiting == 0
    assert s.store.get(approval_id).state == "pending"


async def test_when_a_waiter_presents_another_requesters_approval_then_it_learns_nothing_of_its_state(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting
    eves = await s.held(s.eve, f"why does {TOKEN} fail?")
    for state in ("pending", "denied"):
        if state == "denied":
            s.store.apply(eves, lambda a: deny(a, SECURITY, "no", now=s.clock()))
        error = await s.refused(s.bob, f"why does {TOKEN} fail?", **{APPROVAL_HEADER: eves, WAIT_HEADER: "30"})
        assert (error.status_code, error.code, error.body["mismatch"]) == (403, "approval_mismatch", "requester")
        assert state not in error.message
    assert fake_upstream.received == []


async def test_when_a_grant_comes_with_break_glass_and_wait_headers_then_break_glass_decides_and_the_grant_is_kept(
    waiting: Setup, fake_upstream: FakeUpstream
) -> None:
    s = waiting
    eves = await s.held(s.eve, f"why does {TOKEN} fail?")
    s.approve(eves)
    headers = {APPROVAL_HEADER: eves, BREAK_GLASS_HEADER: "prod down", WAIT_HEADER: "30"}

    # not on call: the break-glass is refused, and the grant presented with it is not spent on the way
    error = await s.refused(s.eve, f"why does {TOKEN} fail?", **headers)
    assert (error.status_code, error.code) == (403, "break_glass_not_allowed")
    assert s.store.get(eves).state == "approved"
    assert fake_upstream.received == []
    # on call, presenting another requester's grant: the break-glass is their own approval, the grant untouched
    answer = await s.ask(s.olga, f"why does {TOKEN} fail?", **headers)
    assert answer.choices[0].message.content
    assert s.store.get(eves).state == "approved"
    [glass] = [a for a in s.store.list() if a.break_glass]
    assert (glass.requester.subject, glass.state, glass.review) == ("olga@example.com", "used", "pending")
