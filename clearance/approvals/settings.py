"""The ``approvals:`` section of the configuration file: how long a request waits for a decision, how many a
requester may have waiting, where approvers reach the gateway, and who is notified."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from clearance.approvals.config import ApprovalNotifiersConfig
from clearance.approvals.store import DEFAULT_MAX_PENDING

DEFAULT_PENDING_LIFETIME = 3600.0


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
    notifications: ApprovalNotifiersConfig = ApprovalNotifiersConfig()
    """Who is told when an approval is requested or decided (docs/approvals-notifications.md)."""

    def base_url(self, fallback: str) -> str:
        """``public_url`` without its trailing slash, else ``fallback`` (the request's own scheme and host)."""
        return str(self.public_url).rstrip("/") if self.public_url is not None else fallback.rstrip("/")
