"""The ``notifications:`` settings of approvals: who is told when an approval is requested, decided or escalated.

Three kinds of notifier, each a list (any may be empty): signed JSON webhooks, Slack-compatible incoming webhooks
and email over SMTP; and requester webhooks, signed JSON webhooks each told only of the approvals of one requester
(named here, in the gateway's file: a URL a caller sent would let anyone make the gateway POST anywhere).

Secrets (the webhook's signing key, the Slack URL, which is itself a credential, the SMTP password) are
``SecretRef``s: an environment variable or a file, never inline. ``docs/approvals-notifications.md`` shows an
example and how a receiver verifies a webhook's signature.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from clearance.secretref import SecretRef

EventKind = Literal["requested", "approved", "denied", "expired", "cancelled", "escalated", "break_glass"]
EVENT_KINDS: tuple[EventKind, ...] = (
    "requested",
    "approved",
    "denied",
    "expired",
    "cancelled",
    "escalated",
    "break_glass",
)
DECISION_KIND_ORDER: tuple[EventKind, ...] = ("approved", "denied", "expired", "cancelled")
DECISION_KINDS: frozenset[EventKind] = frozenset(DECISION_KIND_ORDER)
"""The events that end a pending approval: the ones a requester is told about."""

_Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Notifier(_Strict):
    name: _Name | None = None
    """Shown in logs and metrics; defaults to the kind and position (``webhook-0``)."""
    events: tuple[EventKind, ...] = EVENT_KINDS
    """Which events this notifier is sent (all by default)."""
    timeout: Annotated[float, Field(gt=0, le=300)] = 10.0
    """Seconds one delivery attempt may take."""


class WebhookNotifierConfig(_Notifier):
    """A JSON POST, signed with HMAC-SHA256 in the ``X-Clearance-Signature`` header."""

    url: HttpUrl
    secret: SecretRef
    """The signing key the receiver shares."""


class RequesterWebhookConfig(WebhookNotifierConfig):
    """A signed JSON webhook of one requester: told of the approvals whose requester is ``requester`` (their
    subject, exactly as the gateway authenticated it: an API key's owner, an OIDC token's subject), and of nobody
    else's. An anonymous requester (a gateway without authentication) is nobody in particular and matches none."""

    requester: Annotated[str, Field(min_length=1, max_length=256)]
    kind: Literal["user", "service"] | None = None
    """Match only a requester of this kind, when a user and a service account may share a subject."""
    events: tuple[EventKind, ...] = DECISION_KIND_ORDER
    """The decisions by default: approved, denied, expired, cancelled."""


class SlackNotifierConfig(_Notifier):
    """A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat)."""

    url: SecretRef
    """The incoming webhook's URL: whoever holds it can post to the channel, so it is kept like a secret."""


class EmailNotifierConfig(_Notifier):
    """Email over SMTP. STARTTLS is used whenever the server offers it; a server that does not is refused unless it
    is on loopback or ``allow_plaintext`` is set."""

    host: Annotated[str, Field(min_length=1)]
    port: Annotated[int, Field(gt=0, le=65535)] = 587
    sender: Annotated[str, Field(min_length=3, pattern=r"^[^\s@]+@[^\s@]+$")]
    to: tuple[Annotated[str, Field(pattern=r"^[^\s@]+@[^\s@]+$")], ...] = ()
    to_requester: bool = False
    """Also tell the requester (their email, when their identity has one) when their approval is decided."""
    username: str | None = None
    password: SecretRef | None = None
    ca_file: Path | None = None
    """A CA bundle to verify the server's certificate with (a private CA); the system's by default."""
    allow_plaintext: bool = False

    @model_validator(mode="after")
    def _recipients_and_login(self) -> EmailNotifierConfig:
        if not self.to and not self.to_requester:
            raise ValueError("set 'to' (one or more addresses) or 'to_requester: true'")
        if (self.username is None) != (self.password is None):
            raise ValueError("set both 'username' and 'password', or neither")
        return self

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


class RetryConfig(_Strict):
    """A failed delivery is tried again after ``initial_backoff`` seconds, doubling up to ``max_backoff``, until
    ``max_attempts`` attempts in all; then it is counted as failed and logged."""

    max_attempts: Annotated[int, Field(ge=1, le=20)] = 6
    initial_backoff: Annotated[float, Field(gt=0)] = 1.0
    max_backoff: Annotated[float, Field(gt=0)] = 300.0

    def backoff(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` (1-based)."""
        return float(min(self.initial_backoff * 2 ** (attempt - 1), self.max_backoff))


class ApprovalNotifiersConfig(_Strict):
    webhooks: tuple[WebhookNotifierConfig, ...] = ()
    slack: tuple[SlackNotifierConfig, ...] = ()
    email: tuple[EmailNotifierConfig, ...] = ()
    requester_webhooks: tuple[RequesterWebhookConfig, ...] = ()
    retry: RetryConfig = RetryConfig()
    queue_size: Annotated[int, Field(ge=1)] = 10_000
    """Events waiting per notifier; past that a new event is dropped for that notifier (and counted)."""
    drain_timeout: Annotated[float, Field(ge=0)] = 10.0
    """Seconds the gateway, when it stops, waits for deliveries in progress and queued."""

    @model_validator(mode="after")
    def _unique_names(self) -> ApprovalNotifiersConfig:
        notifiers = (*self.webhooks, *self.slack, *self.email, *self.requester_webhooks)
        names = [n.name for n in notifiers if n.name is not None]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"notifier names must be unique: {', '.join(twice)} used more than once")
        return self
