"""The ``approvals:`` section of the configuration file: how long a request waits for a decision, how many a
requester may have waiting, how long a caller may hold its request open for one (wait mode), where approvers reach
the gateway, and who is notified."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.approvals.store import DEFAULT_MAX_PENDING

DEFAULT_PENDING_LIFETIME = 3600.0
DEFAULT_MAX_WAIT = 300.0
DEFAULT_KEEPALIVE_INTERVAL = 15.0
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_MAX_WAITING = 10


class ApprovalSettings(BaseModel):
    """How the gateway holds requests that a ``require_approval`` rule decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pending_lifetime: Annotated[float, Field(gt=0)] = DEFAULT_PENDING_LIFETIME
    """Seconds an approval request waits for a decision before it expires undecided."""
    max_pending: Annotated[int, Field(ge=1)] = DEFAULT_MAX_PENDING
    """How many approval requests one requester may have pending at once; one more is refused with 429."""
    public_url: HttpUrl | None = None
    """The base URL approvers reach this gateway at (``https://llm-gateway.example.com``), used in the links a
    refusal gives. None: the scheme and host the request came in on (and notifications carry the link's path
    only)."""
    sweep_interval: Annotated[float, Field(gt=0, le=3600)] = 30.0
    """Seconds between two passes that record (and notify) the expiry of approvals whose time is over."""
    max_wait: Annotated[float, Field(ge=0, le=86400)] = DEFAULT_MAX_WAIT
    """The most seconds a caller may hold its request open for a decision (``X-Clearance-Wait``); a longer wait
    asked for is cut to this. 0 turns wait mode off: the header is ignored and the request refused at once."""
    max_waiting: Annotated[int, Field(ge=1, le=10_000)] = DEFAULT_MAX_WAITING
    """How many requests one requester may hold open waiting for a decision at once, on one instance; one more is
    refused with 429 ``too_many_waiting``. Each waiting request holds a connection and a task: without a bound,
    one caller could open thousands on a single approval."""
    keepalive_interval: Annotated[float, Field(gt=0, le=300)] = DEFAULT_KEEPALIVE_INTERVAL
    """Seconds between two SSE comment lines sent to a streaming caller while it waits (and before the first:
    a decision within this time gets an ordinary status code)."""
    poll_interval: Annotated[float, Field(gt=0, le=60)] = DEFAULT_POLL_INTERVAL
    """Seconds between two reads of a waited-on approval from the store, besides the release signal: the safety
    net when a notification is missed (the listener reconnecting, several processes on one SQLite file)."""
    notifications: ApprovalNotifiersConfig = ApprovalNotifiersConfig()
    """Who is told when an approval is requested or decided (docs/approvals-notifications.md)."""

    def base_url(self, fallback: str) -> str:
        """``public_url`` without its trailing slash, else ``fallback`` (the request's own scheme and host)."""
        return str(self.public_url).rstrip("/") if self.public_url is not None else fallback.rstrip("/")
