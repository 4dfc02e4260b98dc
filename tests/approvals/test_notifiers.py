from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.approvals.notifiers import build_dispatcher, build_routes
from clearance.approvals.slack import SlackNotifier
from clearance.approvals.smtp import EmailNotifier
from clearance.approvals.webhook import WebhookNotifier
from clearance.exceptions import ConfigError
from tests.approvals.notify_samples import sample_approval


def section(tmp_path: Path) -> ApprovalNotifiersConfig:
    (tmp_path / "slack-url").write_text("https://hooks.example.com/services/T/B/X\n")
    return ApprovalNotifiersConfig.model_validate(
        {
            "public_url": "https://gw.example.com/",
            "webhooks": [{"url": "https://hooks.example.com/c", "secret": {"env": "CLR_TEST_WEBHOOK_SECRET"}}],
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
