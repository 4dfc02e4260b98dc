from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.approvals.config import DECISION_KINDS, ApprovalNotifiersConfig
from clearance.approvals.model import Requester
from clearance.approvals.notifiers import Notifications, build_dispatcher, build_routes
from clearance.approvals.notify import ApprovalEvent, approval_api_link, approval_link, event_document
from clearance.approvals.slack import SlackNotifier
from clearance.approvals.smtp import EmailNotifier
from clearance.approvals.webhook import SIGNATURE_HEADER, WebhookNotifier, verify_signature
from clearance.exceptions import ConfigError
from tests.approvals.notify_samples import sample_approval

SENT_AT = 1_700_000_000.0


def section(tmp_path: Path) -> ApprovalNotifiersConfig:
    (tmp_path / "slack-url").write_text("https://hooks.example.com/services/T/B/X\n")
    return ApprovalNotifiersConfig.model_validate(
        {
            # loopback, where nothing listens on the discard port: a delivery attempt never leaves the machine
            "webhooks": [{"url": "http://127.0.0.1:9/c", "secret": {"env": "CLR_TEST_WEBHOOK_SECRET"}}],
            "slack": [{"name": "sec", "url": {"file": str(tmp_path / "slack-url")}, "events": ["escalated"]}],
            "email": [{"host": "127.0.0.1", "sender": "c@example.com", "to": ["s@example.com"]}],
        }
    )


async def test_when_the_section_names_notifiers_then_each_is_built_with_its_name_and_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_WEBHOOK_SECRET", "s3cret")
    async with aiohttp.ClientSession() as session:
        routes = build_routes(section(tmp_path), session)
    assert [(type(r.notifier), r.notifier.name) for r in routes] == [
        (WebhookNotifier, "webhook-0"),
        (SlackNotifier, "sec"),
        (EmailNotifier, "email-0"),
    ]
    assert routes[1].events == frozenset({"escalated"})


async def test_when_a_secret_is_missing_then_building_fails_at_start_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLR_TEST_WEBHOOK_SECRET", raising=False)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(ConfigError, match="CLR_TEST_WEBHOOK_SECRET"):
            build_routes(section(tmp_path), session)


async def test_when_a_dispatcher_is_built_then_each_event_waits_for_the_notifiers_that_take_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_WEBHOOK_SECRET", "s3cret")
    async with aiohttp.ClientSession() as session:
        dispatcher = build_dispatcher(section(tmp_path), session, clock=lambda: 7.0)
        dispatcher.notify("requested", sample_approval())
        assert dispatcher.pending == 2  # the webhook's and the email's; Slack takes escalations only
        await dispatcher.close()
    assert dispatcher.counts.dropped == 2


async def test_when_no_notifier_is_configured_then_notifications_open_nothing_and_drop_events() -> None:
    notifications = Notifications(ApprovalNotifiersConfig())
    await notifications.start()
    assert (notifications.configured, notifications.dispatcher) == (False, None)
    notifications.notify("requested", sample_approval())  # goes nowhere, raises nothing
    await notifications.close()


async def test_when_notifiers_are_configured_then_they_run_between_start_and_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLR_TEST_WEBHOOK_SECRET", "s3cret")
    config = section(tmp_path).model_copy(update={"drain_timeout": 0.0})  # close at once: nothing here can answer
    notifications = Notifications(config, public_url="https://gw.example.com", clock=lambda: 7.0)
    notifications.notify("requested", sample_approval())  # before start: dropped, not queued
    await notifications.start()
    dispatcher = notifications.dispatcher
    assert dispatcher is not None and dispatcher.pending == 0
    notifications.notify("requested", sample_approval())
    assert dispatcher.pending == 2
    await notifications.close()
    assert notifications.dispatcher is None


async def test_when_a_secret_is_missing_then_notifications_fail_to_start_and_hold_no_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLR_TEST_WEBHOOK_SECRET", raising=False)
    notifications = Notifications(section(tmp_path))
    with pytest.raises(ConfigError, match="CLR_TEST_WEBHOOK_SECRET"):
        await notifications.start()
    assert notifications.dispatcher is None


# -- requesters' own webhooks ----------------------------------------------------------------------------------


@dataclass
class Inbox:
    """One requester's webhook receiver on loopback: keeps what verifies with its own secret, refuses the rest."""

    secret: str
    url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    refused: int = 0

    async def hook(self, request: web.Request) -> web.Response:
        body = await request.read()
        if not verify_signature(self.secret, request.headers.get(SIGNATURE_HEADER), body, now=SENT_AT):
            self.refused += 1
            return web.Response(status=401)
        self.events.append(orjson.loads(body))
        return web.Response(status=204)


@pytest.fixture
async def inboxes() -> AsyncIterator[dict[str, Inbox]]:
    """``sam``'s and ``eve``'s receivers, each with a secret of its own."""
    boxes = {"sam": Inbox("whsec-sam"), "eve": Inbox("whsec-eve")}
    app = web.Application()
    for name, box in boxes.items():
        app.router.add_post(f"/{name}", box.hook)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    for name, box in boxes.items():
        box.url = str(server.make_url(f"/{name}"))
    try:
        yield boxes
    finally:
        await server.close()


def requester_section(inboxes: dict[str, Inbox], **extra: Any) -> ApprovalNotifiersConfig:
    return ApprovalNotifiersConfig.model_validate(
        {
            "requester_webhooks": [
                {"requester": name, "url": box.url, "secret": {"env": f"CLR_TEST_{name.upper()}_HOOK"}}
                for name, box in inboxes.items()
            ],
            **extra,
        }
    )


async def test_when_requester_webhooks_are_configured_then_each_route_is_bound_to_its_requester(
    inboxes: dict[str, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, box in inboxes.items():
        monkeypatch.setenv(f"CLR_TEST_{name.upper()}_HOOK", box.secret)
    async with aiohttp.ClientSession() as session:
        routes = build_routes(requester_section(inboxes), session)
    assert [(type(r.notifier), r.notifier.name, r.requester) for r in routes] == [
        (WebhookNotifier, "requester-webhook-0", "sam"),
        (WebhookNotifier, "requester-webhook-1", "eve"),
    ]
    assert routes[0].events == DECISION_KINDS


async def test_when_approvals_are_decided_then_each_requester_hears_of_their_own_only(
    inboxes: dict[str, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, box in inboxes.items():
        monkeypatch.setenv(f"CLR_TEST_{name.upper()}_HOOK", box.secret)
    sams = sample_approval(id="apr_sam", requester=Requester("sam", kind="service"))
    eves = sample_approval(id="apr_eve", requester=Requester("eve", kind="user"))
    others = sample_approval(id="apr_mallory", requester=Requester("mallory"))
    notifications = Notifications(requester_section(inboxes), clock=lambda: SENT_AT)
    await notifications.start()
    try:
        notifications.notify("requested", sams)  # not a decision: not sent by default
        notifications.notify("approved", sams)
        notifications.notify("denied", eves)
        notifications.notify("approved", others)
        notifications.notify("expired", others)
    finally:
        await notifications.close()  # drains: every delivery has happened when it returns
    sam, eve = inboxes["sam"], inboxes["eve"]
    assert (sam.refused, eve.refused) == (0, 0)  # each signed with that requester's own secret
    assert [(e["event"], e["approval"]["id"]) for e in sam.events] == [("approved", "apr_sam")]
    assert [(e["event"], e["approval"]["id"]) for e in eve.events] == [("denied", "apr_eve")]
    links = approval_link(None, "apr_sam"), approval_api_link(None, "apr_sam")
    assert sam.events[0] == event_document(ApprovalEvent("approved", sams, links[0], SENT_AT, links[1]))


async def test_when_events_are_published_then_the_owner_counts_each_even_with_no_notifier() -> None:
    counted: list[str] = []
    notifications = Notifications(ApprovalNotifiersConfig(), on_event=counted.append)
    notifications.notify("requested", sample_approval())  # before the start, too: the event happened
    await notifications.start()
    notifications.notify("approved", sample_approval())
    await notifications.close()
    assert counted == ["requested", "approved"]


async def test_when_only_requester_webhooks_are_configured_then_notifications_run(
    inboxes: dict[str, Inbox], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, box in inboxes.items():
        monkeypatch.setenv(f"CLR_TEST_{name.upper()}_HOOK", box.secret)
    notifications = Notifications(requester_section(inboxes))
    assert notifications.configured
    await notifications.start()
    assert notifications.dispatcher is not None
    await notifications.close()
