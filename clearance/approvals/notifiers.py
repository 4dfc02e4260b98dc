"""The notifiers the configuration names, built once when the gateway starts (their secrets read then, so a
missing one stops the start with a ``ConfigError`` instead of failing every delivery later).

A requester's webhook is a ``WebhookNotifier`` like any other, on a route bound to that requester: the same signed
document, the same retries, queue and drain, and only that requester's approvals."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import aiohttp

from clearance.approvals.config import ApprovalNotifiersConfig, EventKind
from clearance.approvals.dispatch import (
    NotificationDispatcher,
    OnOutcome,
    OnQueueDepth,
    Route,
    ignore_outcome,
    ignore_queue_depth,
)
from clearance.approvals.model import ApprovalRequest
from clearance.approvals.slack import SlackNotifier
from clearance.approvals.smtp import EmailNotifier
from clearance.approvals.webhook import WebhookNotifier

log = logging.getLogger("clearance.approvals.notify")


def build_routes(
    config: ApprovalNotifiersConfig, session: aiohttp.ClientSession, *, clock: Callable[[], float] = time.time
) -> list[Route]:
    """One route per configured notifier, in the order of the file (webhooks, then Slack, then email, then the
    requesters' webhooks)."""
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
    for i, own in enumerate(config.requester_webhooks):
        name = own.name or f"requester-webhook-{i}"
        notifier = WebhookNotifier(name, str(own.url), own.secret.resolve(), session, clock=clock, timeout=own.timeout)
        routes.append(
            Route(notifier, frozenset(own.events), own.timeout, requester=own.requester, requester_kind=own.kind)
        )
    return routes


def build_dispatcher(
    config: ApprovalNotifiersConfig,
    session: aiohttp.ClientSession,
    *,
    public_url: str | None = None,
    console: bool = True,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    on_outcome: OnOutcome = ignore_outcome,
    on_queue_depth: OnQueueDepth = ignore_queue_depth,
) -> NotificationDispatcher:
    """A dispatcher for every configured notifier (started by the caller, in its lifespan)."""
    return NotificationDispatcher(
        build_routes(config, session, clock=clock),
        public_url=public_url,
        console=console,
        retry=config.retry,
        queue_size=config.queue_size,
        drain_timeout=config.drain_timeout,
        clock=clock,
        sleep=sleep,
        on_outcome=on_outcome,
        on_queue_depth=on_queue_depth,
    )


Notify = Callable[[EventKind, ApprovalRequest], None]
"""Tells the notifiers an approval went through a step (``Notifications.notify``); never blocks, never raises."""


def notify_nobody(_kind: EventKind, _approval: ApprovalRequest) -> None:
    """A ``Notify`` for a gateway part built without notifications (tests, tools)."""


def _count_nothing(_kind: EventKind) -> None:
    """No owner counting events."""


class Notifications:
    """The gateway's approval notifications, owned by the application: built when it starts (where an HTTP session
    can be opened and the secrets are read), drained and closed when it stops. An event published with no notifier
    configured, or outside that span, goes nowhere: notifications never hold up or fail a request.

    The owner counts what happens through callbacks: ``on_event`` hears every event published (whether or not a
    notifier takes it), ``on_outcome`` and ``on_queue_depth`` what the dispatcher reports per notifier."""

    def __init__(
        self,
        config: ApprovalNotifiersConfig,
        *,
        public_url: str | None = None,
        console: bool = True,
        clock: Callable[[], float] = time.time,
        on_event: Callable[[EventKind], None] = _count_nothing,
        on_outcome: OnOutcome = ignore_outcome,
        on_queue_depth: OnQueueDepth = ignore_queue_depth,
    ) -> None:
        self._config = config
        self._public_url = public_url
        self._console = console
        self._clock = clock
        self._on_event = on_event
        self._on_outcome = on_outcome
        self._on_queue_depth = on_queue_depth
        self._session: aiohttp.ClientSession | None = None
        self._dispatcher: NotificationDispatcher | None = None

    @property
    def configured(self) -> bool:
        c = self._config
        return bool(c.webhooks or c.slack or c.email or c.requester_webhooks)

    @property
    def dispatcher(self) -> NotificationDispatcher | None:
        """The running dispatcher (its delivery counts), or None when stopped or nothing is configured."""
        return self._dispatcher

    async def start(self) -> None:
        if not self.configured or self._dispatcher is not None:
            return
        session = aiohttp.ClientSession()
        try:
            dispatcher = build_dispatcher(
                self._config,
                session,
                public_url=self._public_url,
                console=self._console,
                clock=self._clock,
                on_outcome=self._on_outcome,
                on_queue_depth=self._on_queue_depth,
            )
        except BaseException:
            await session.close()
            raise
        dispatcher.start()
        self._session, self._dispatcher = session, dispatcher

    async def close(self) -> None:
        dispatcher, session = self._dispatcher, self._session
        self._dispatcher = self._session = None
        if dispatcher is not None:
            await dispatcher.close()
        if session is not None:
            await session.close()

    def notify(self, kind: EventKind, approval: ApprovalRequest) -> None:
        """Tell the configured notifiers that ``approval`` went through ``kind``. Never blocks, never raises."""
        try:
            self._on_event(kind)
        except Exception as exc:  # a metrics bug must not fail the request that published the event
            log.error("approval event not counted", extra={"event": kind, "error": type(exc).__name__})
        if self._dispatcher is not None:
            self._dispatcher.notify(kind, approval)
