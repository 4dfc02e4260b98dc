"""Who may see the gateway's own surfaces: ``/metrics`` and the details of ``/readyz``.

Both name upstreams, models and traffic: useful to an operator, a map to anyone else. They are shown to loopback
callers (the host's own monitoring), to authenticated callers, or to everyone when ``server.metrics_public`` is
on. The decision is a pure function of the caller's address and identity, so it is tested without a network.
"""

from __future__ import annotations

from clearance.auth.authenticator import is_loopback
from clearance.models import Identity

__all__ = ["is_loopback", "may_see_details"]
"""``is_loopback`` is the authenticator's own test: one definition of "loopback" for the whole gateway."""


def may_see_details(remote: str | None, identity: Identity | None, *, public: bool) -> bool:
    """Whether a caller at ``remote``, authenticated as ``identity`` (None: not authenticated), sees details."""
    if public or is_loopback(remote):
        return True
    return identity is not None and identity.kind != "anonymous"
