from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from clearance.approvals.config import DECISION_KINDS, ApprovalNotifiersConfig, EmailNotifierConfig, RetryConfig

FULL: dict[str, Any] = {
    "webhooks": [{"url": "https://hooks.example.com/clearance", "secret": {"env": "CLEARANCE_WEBHOOK_SECRET"}}],
    "slack": [{"name": "security-channel", "url": {"file": "/run/secrets/slack-url"}, "events": ["requested"]}],
    "email": [
        {
            "host": "smtp.example.com",
            "sender": "clearance@example.com",
            "to": ["security@example.com"],
            "to_requester": True,
            "username": "clearance",
            "password": {"env": "SMTP_PASSWORD"},
        }
    ],
    "retry": {"max_attempts": 3},
}


def test_when_every_notifier_is_configured_then_the_section_validates() -> None:
    config = ApprovalNotifiersConfig.model_validate(FULL)
    assert config.slack[0].events == ("requested",)
    assert config.webhooks[0].events[0] == "requested"
    assert config.email[0].port == 587
    assert config.retry == RetryConfig(max_attempts=3)


def errors(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as failed:
        ApprovalNotifiersConfig.model_validate(data)
    return [(".".join(map(str, e["loc"])), e["type"]) for e in failed.value.errors()]


def test_when_several_keys_are_wrong_then_every_error_is_reported_at_once() -> None:
    found = errors(
        {
            "webhooks": [{"url": "not a url", "secret": "inline-secret"}],
            "slack": [{"url": "https://hooks.slack.com/services/T/B/X"}],
            "email": [{"host": "smtp", "sender": "nobody", "to": ["a@example.com"], "tls": "maybe"}],
            "unknown": 1,
        }
    )
    paths = {path for path, _ in found}
    assert {"webhooks.0.url", "webhooks.0.secret", "slack.0.url", "email.0.sender", "email.0.tls", "unknown"} <= paths


def test_when_an_event_kind_is_unknown_then_it_is_refused() -> None:
    assert errors({"slack": [{"url": {"env": "X"}, "events": ["approved", "maybe"]}]})[0][0] == "slack.0.events.1"


def test_when_an_email_has_no_recipient_or_half_a_login_then_it_is_refused() -> None:
    base = {"host": "smtp", "sender": "a@example.com"}
    with pytest.raises(ValidationError, match="set 'to'"):
        EmailNotifierConfig.model_validate(base)
    with pytest.raises(ValidationError, match="both 'username' and 'password'"):
        EmailNotifierConfig.model_validate({**base, "to": ["b@example.com"], "username": "u"})


def test_when_two_notifiers_share_a_name_then_the_section_is_refused() -> None:
    data = {"webhooks": [{"name": "ops", "url": "https://a.example.com", "secret": {"env": "S"}}]}
    data["slack"] = [{"name": "ops", "url": {"env": "U"}}]
    with pytest.raises(ValidationError, match="ops used more than once"):
        ApprovalNotifiersConfig.model_validate(data)


def test_when_a_requester_webhook_names_no_events_then_it_is_told_the_decisions_only() -> None:
    own = {"requester": "svc-agent", "url": "https://agent.example.com/d", "secret": {"env": "S"}}
    config = ApprovalNotifiersConfig.model_validate({"requester_webhooks": [own]})
    [hook] = config.requester_webhooks
    assert (hook.requester, hook.kind, hook.name) == ("svc-agent", None, None)
    assert hook.events == ("approved", "denied", "expired", "cancelled")
    assert frozenset(hook.events) == DECISION_KINDS


def test_when_a_requester_webhook_lacks_its_requester_or_secret_then_every_error_is_reported() -> None:
    found = errors(
        {
            "requester_webhooks": [
                {"url": "https://agent.example.com/d", "secret": {"env": "S"}, "kind": "anonymous"},
                {"requester": "", "url": "https://agent.example.com/d", "secret": "inline"},
            ]
        }
    )
    paths = {path for path, _ in found}
    assert {
        "requester_webhooks.0.requester",
        "requester_webhooks.0.kind",
        "requester_webhooks.1.requester",
        "requester_webhooks.1.secret",
    } <= paths


def test_when_a_requester_webhook_shares_a_notifier_name_then_the_section_is_refused() -> None:
    hook = {"name": "ops", "url": "https://a.example.com", "secret": {"env": "S"}}
    data = {"webhooks": [hook], "requester_webhooks": [{**hook, "requester": "svc-agent"}]}
    with pytest.raises(ValidationError, match="ops used more than once"):
        ApprovalNotifiersConfig.model_validate(data)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("127.0.0.1", True), ("::1", True), ("10.0.0.5", False), ("smtp.example.com", False)],
)
def test_when_the_smtp_host_is_loopback_then_plain_smtp_is_allowed_there_only(host: str, loopback: bool) -> None:
    config = EmailNotifierConfig(host=host, sender="a@example.com", to=("b@example.com",))
    assert config.loopback is loopback


def test_when_attempts_fail_then_the_backoff_doubles_up_to_its_cap() -> None:
    retry = RetryConfig(initial_backoff=1.5, max_backoff=10.0)
    assert [retry.backoff(n) for n in range(1, 6)] == [1.5, 3.0, 6.0, 10.0, 10.0]


def test_when_the_docs_show_a_notifications_section_then_it_validates() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "approvals-notifications.md").read_text()
    blocks = [part.split("```")[0] for part in docs.split("```yaml\n")[1:]]
    sections = [yaml.safe_load(block)["approvals"]["notifications"] for block in blocks]
    assert len(sections) == 2  # the whole section, and the requester webhooks'
    configs = [ApprovalNotifiersConfig.model_validate(section) for section in sections]
    assert [hook.requester for hook in configs[1].requester_webhooks] == ["svc-billing-agent"]
