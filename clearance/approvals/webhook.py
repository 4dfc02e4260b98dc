"""The generic webhook: a JSON POST of ``event_document``, signed so the receiver knows it came from the gateway.

The signature header, ``X-Clearance-Signature: t=<unix seconds>,v1=<hex>``, carries the time it was signed and
HMAC-SHA256, keyed with the shared secret, over ``f"{t}.{body}"`` (the body's exact bytes). A receiver recomputes
it with ``verify_signature``, which also refuses a timestamp outside a tolerance (5 minutes), so a captured
delivery cannot be replayed later; within the tolerance a receiver drops repeats by ``X-Clearance-Event-Id``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable

import aiohttp
import orjson

from clearance.approvals.notify import ApprovalEvent, DeliveryFailed, event_document

SIGNATURE_HEADER = "X-Clearance-Signature"
EVENT_HEADER = "X-Clearance-Event"
EVENT_ID_HEADER = "X-Clearance-Event-Id"
DEFAULT_TOLERANCE = 300.0


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-Clearance-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    return f"t={timestamp},v1={_mac(secret, timestamp, body)}"


def verify_signature(
    secret: str, header: str | None, body: bytes, now: float, tolerance: float = DEFAULT_TOLERANCE
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` at a time within ``tolerance`` seconds of ``now``.

    Any malformed header, a wrong signature, or a timestamp too old (a replay) or too far ahead is False. Several
    ``v1`` entries are accepted (one per secret, while a secret is rotated); one matching is enough."""
    if not header:
        return False
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit():
                return False
            timestamp = int(value)
        elif key == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or not math.isfinite(now) or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    # compare_digest on every candidate: the time taken says nothing about which one (if any) matched.
    return any([hmac.compare_digest(expected.encode(), c.encode()) for c in candidates])


async def post_json(
    session: aiohttp.ClientSession,
    label: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    timeout: aiohttp.ClientTimeout,
) -> None:
    """POST ``body``; raise ``DeliveryFailed`` naming ``label`` (never the URL, which may be a secret) unless the
    answer is 2xx. Redirects are not followed."""
    try:
        async with session.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise DeliveryFailed(f"{label}: {type(exc).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"{label}: answered {status}")


class WebhookNotifier:
    """POSTs each event as signed JSON to one URL; any answer but 2xx (a redirect included) is a failure."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float],
        timeout: float = 10.0,
    ) -> None:
        self._name = name
        self._url = url
        self._secret = secret
        self._session = session
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def name(self) -> str:
        return self._name

    async def send(self, event: ApprovalEvent) -> None:
        body = orjson.dumps(event_document(event))
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, body, int(self._clock())),
            EVENT_HEADER: event.kind,
            EVENT_ID_HEADER: event.key,
        }
        await post_json(self._session, f"webhook {self._name}", self._url, body, headers, self._timeout)
