"""The notifiers the configuration names, built once when the gateway starts (their secrets read then, so a
missing one stops the start with a ``ConfigError`` instead of failing every delivery later)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp

from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.approvals.dispatch import NotificationDispatcher, Route
from clearance.approvals.slack import SlackNotifier
from clearance.approvals.smtp import EmailNotifier
from clearance.approvals.webhook import WebhookNotifier


def build_routes(
    config: ApprovalNotifiersConfig, session: aiohttp.ClientSession, *, clock: Callable[[], float] = time.time
) -> list[Route]:
    """One route per configured notifier, in the order of the file (webhooks, then Slack, then email)."""
    routes: list[Route] = []
    for i, hook in enumerate(config.webhooks):
        name = hook.name or f"webhook-{i}"
        notifier = WebhookNotifier(
            name, str(hook.url), hook.secret.resolve(), session, clock=clock, timeout=hook.timeout
        )
        routes.append(Route(notifier, frozenset(hook.events), hook.timeout))
    for i, slack in enumerate(config.slack):
        name = slack.name or f"slack-{i}"
        routes.append(
            Route(
                SlackNotifier(name, slack.url.resolve(), session, timeout=slack.timeout),
                frozenset(slack.events),
                slack.timeout,
            )
        )
    for i, mail in enumerate(config.email):
        name = mail.name or f"email-{i}"
        password = mail.password.resolve() if mail.password is not None else None
        routes.append(Route(EmailNotifier(name, mail, password), frozenset(mail.events), mail.timeout))
    return routes


def build_dispatcher(
    config: ApprovalNotifiersConfig,
    session: aiohttp.ClientSession,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> NotificationDispatcher:
    """A dispatcher for every configured notifier (started by the caller, in its lifespan)."""
    return NotificationDispatcher(
        build_routes(config, session, clock=clock),
        public_url=str(config.public_url) if config.public_url else None,
        retry=config.retry,
        queue_size=config.queue_size,
        drain_timeout=config.drain_timeout,
        clock=clock,
        sleep=sleep,
    )
