"""A request tried, not sent: what the enforcement stage would decide and forward for a caller, a model and a text.

``clearance policy test`` and the admin API's ``POST /admin/v1/policy/test`` (and so the console's "try it" page)
both call ``try_request``: the smallest request a client would send to the endpoint, run through an ``Inspector``
(the gateway's own stage, or one deciding by a draft policy: ``Inspector.deciding_by``). The result holds the
decision and the text as it would be sent, masked; never the text tried, which nothing here keeps or logs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from clearance.endpoints import MODEL_ENDPOINTS, Endpoint
from clearance.enforce.inspector import Inspector
from clearance.exceptions import InvalidRequest
from clearance.models import Decision, Identity

ENDPOINTS: Final = {e.name: e for e in MODEL_ENDPOINTS}
DEFAULT_ENDPOINT: Final = "chat.completions"
_TEXT_FIELD: Final = {
    "chat": None,
    "completion": "prompt",
    "generate": "prompt",
    "embedding": "input",
    "response": "input",
}
"""Where the request's text goes in each operation's body (chat: one user message)."""


def request_body(endpoint: Endpoint, model: str, text: str) -> dict[str, Any]:
    """The smallest request ``endpoint`` accepts, carrying ``text`` where a client would put it."""
    body: dict[str, Any] = {"model": model}
    field = _TEXT_FIELD[endpoint.operation]
    if field is None:
        body["messages"] = [{"role": "user", "content": text}]
    else:
        body[field] = text
    if endpoint.flavour == "ollama":
        body["stream"] = False
    return body


def sent_text(endpoint: Endpoint, body: dict[str, Any]) -> str:
    """The text of a body ``request_body`` made, after the enforcement stage (masked where it masked)."""
    field = _TEXT_FIELD[endpoint.operation]
    value = body["messages"][0]["content"] if field is None else body[field]
    return str(value)


def endpoint_named(name: str) -> Endpoint:
    endpoint = ENDPOINTS.get(name)
    if endpoint is None:
        raise InvalidRequest(f"unknown endpoint: use one of {', '.join(ENDPOINTS)}", param="endpoint")
    return endpoint


def trial_caller(
    user: str | None, service_account: str | None, groups: Sequence[str], email: str | None = None
) -> Identity:
    """The caller tried: a user (an email or a subject), a service account, or, with neither, anonymous."""
    names = tuple(g.strip() for g in groups if g.strip())
    if user and service_account:
        raise InvalidRequest("give a user or a service account, not both", param="identity")
    if service_account:
        return Identity(service_account, kind="service", groups=names)
    if user:
        return Identity(user, kind="user", email=email or (user if "@" in user else None), groups=names)
    if names:
        raise InvalidRequest("groups need a user or a service account (without one the caller is anonymous)")
    return Identity.anonymous()


def declared_label(label: str | None) -> str | None:
    """A declared classification as the gateway reads ``X-Data-Classification``."""
    return label.strip().lower() if label and label.strip() else None


@dataclass(frozen=True, slots=True)
class Trial:
    decision: Decision
    sent: str | None
    """The text as the upstream would receive it (masked where the decision masks); None when the decision does
    not forward the request (block, or held for approval)."""


def try_request(
    inspector: Inspector,
    endpoint: Endpoint,
    text: str,
    *,
    identity: Identity,
    model: str,
    upstream: str = "",
    declared: str | None = None,
) -> Trial:
    """Decide and mask ``text`` as a request to ``model`` on ``endpoint`` by ``identity``. Raises what the stage
    raises for a request it refuses before deciding (a ``ClearanceError``)."""
    inspection = inspector.inspect(
        endpoint,
        request_body(endpoint, model, text),
        identity=identity,
        model=model,
        upstream=upstream,
        declared=declared,
    )
    decision = inspection.decision
    sent = sent_text(endpoint, inspection.body) if decision.action in ("allow", "mask") else None
    return Trial(decision, sent)
