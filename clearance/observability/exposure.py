"""Who may see the gateway's own surfaces: ``/metrics`` and the details of ``/readyz``.

Both name upstreams, models and traffic: useful to an operator, a map to anyone else. They are shown to loopback
callers that asked for a loopback ``Host`` (the host's own monitoring; a page on another site whose name was pointed
at 127.0.0.1 is not one), to authenticated callers, or to everyone when ``server.metrics_public`` is on. The
decision is a pure function of the caller's address, ``Host`` and identity, so it is tested without a network.
"""

from __future__ import annotations

from clearance.auth.authenticator import is_loopback, local_caller
from clearance.models import Identity

__all__ = ["is_loopback", "may_see_details"]
"""``is_loopback`` is the authenticator's own test: one definition of "loopback" for the whole gateway."""


def may_see_details(remote: str | None, identity: Identity | None, *, public: bool, host: str | None = None) -> bool:
    """Whether a caller at ``remote`` that asked for ``host`` (its ``Host`` header; None: it sent none),
    authenticated as ``identity`` (None: not authenticated), sees details."""
    if public or local_caller(remote, host):
        return True
    return identity is not None and identity.kind != "anonymous"
