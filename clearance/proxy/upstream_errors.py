"""An upstream's error answer (HTTP 4xx/5xx) on its way to the caller: an answer like any other, so inspected.

The status is kept. The body is what aiohttp decoded (``upstream.body_is_decoded``), read as text in its declared
charset (UTF-8 if none) and masked with the request's own masker (``Masker.outgoing``, the one whole answers use):

- JSON, whatever the ``Content-Type`` says, is masked field by field (``clearance.payload.extract.rewrite_texts``), so
  escapes such as ``\\u0034`` are read as the characters they stand for, and sent as ``application/json``; if the
  serialised result still holds something masking would change (a value in a key or a structural field the walk
  passes), the body is not shown;
- anything else is masked as one text and sent as ``text/plain`` (an HTML error page is not rendered as HTML);
- a body that cannot be read (an unknown encoding, a broken compressed stream, bytes that are not text in its
  charset, JSON nested too deeply) is replaced by a generic error in the OpenAI format: never relayed raw.

Of the upstream's headers, only those a client acts on (``Retry-After`` and rate-limit headers) are relayed, each
value masked like the body.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from clearance.exceptions import UpstreamError
from clearance.mask.events import DROP
from clearance.mask.masker import Masker
from clearance.payload.extract import rewrite_texts
from clearance.proxy.errors import JSON_CONTENT_TYPE, error_body
from clearance.proxy.json_codec import JsonCodec, JsonRefused, dumps
from clearance.proxy.upstream import body_is_decoded

log = logging.getLogger("clearance.upstream")

_RELAYED_HEADERS = ("retry-after",)
_RELAYED_PREFIXES = ("ratelimit-", "x-ratelimit-")
TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"


@dataclass(frozen=True, slots=True)
class ErrorAnswer:
    """What the caller gets for an upstream's error: the upstream's status, a masked body, relayed headers."""

    status: int
    body: bytes
    content_type: str
    headers: Mapping[str, str]
    inspected: bool
    """False when the body could not be read and a generic error stands in for it."""


class Unreadable(Exception):
    """The error body cannot be inspected (a fixed reason, never payload text)."""


def relayed_headers(headers: Mapping[str, str], masker: Masker) -> dict[str, str]:
    """The upstream headers a caller may act on, values masked; everything else stays at the gateway."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in _RELAYED_HEADERS or lowered.startswith(_RELAYED_PREFIXES):
            masked = masker.outgoing(value)
            if masked.isascii() and masked.isprintable():
                out[name] = masked
    return out


def mask_error_body(raw: bytes, charset: str | None, masker: Masker, codec: JsonCodec) -> tuple[bytes, str]:
    """The masked body and its content type. Raises ``Unreadable`` for a body that cannot be inspected."""
    try:
        text = raw.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        raise Unreadable("not text in its charset") from None
    try:
        value = codec.loads(text.encode("utf-8"))
    except JsonRefused as refused:
        if refused.reason == "too_deep":
            raise Unreadable("JSON nested too deeply") from None
        return masker.outgoing(text).encode("utf-8"), TEXT_CONTENT_TYPE
    body = dumps(rewrite_texts(value, masker.outgoing, DROP, masker.identifier))  # ids and types as in answers
    # The field walk leaves keys and structural strings ("type", "code", ids) as they are; an error body is no
    # place for a value there, so the whole serialised body is read once more: anything masking would still
    # change means a value the walk did not reach, and the body is not shown.
    serialised = body.decode("utf-8")
    if masker.outgoing(serialised) != serialised:
        raise Unreadable("a value outside the fields the walk masks")
    return body, JSON_CONTENT_TYPE


def generic_error(upstream: str, status: int) -> bytes:
    """The body sent in place of an error body that could not be inspected."""
    return error_body(
        UpstreamError(
            f"upstream {upstream!r} answered with HTTP {status} and a body the gateway could not inspect, so the "
            "body is not shown; the upstream's logs have the details",
            code=f"upstream_http_{status}",
        )
    )


async def error_answer(
    upstream: str, response: aiohttp.ClientResponse, masker: Masker, codec: JsonCodec
) -> ErrorAnswer:
    """Read and mask ``response`` (an error status). Never raises for its body: the status is always kept."""
    status = response.status
    try:
        headers = relayed_headers(response.headers, masker)
        if not body_is_decoded(response):
            raise Unreadable("an encoding the gateway does not decode")
        raw = await response.read()
        body, content_type = mask_error_body(raw, response.charset, masker, codec)
    except (Unreadable, TimeoutError, aiohttp.ClientError) as exc:
        log.warning("upstream error body not inspectable", extra={"upstream": upstream, "error": type(exc).__name__})
        return ErrorAnswer(status, generic_error(upstream, status), JSON_CONTENT_TYPE, {}, False)
    except Exception as exc:  # a masking bug: the caller still gets the status, never the raw body
        log.error("upstream error body inspection failed", extra={"upstream": upstream, "error": type(exc).__name__})
        return ErrorAnswer(status, generic_error(upstream, status), JSON_CONTENT_TYPE, {}, False)
    return ErrorAnswer(status, body, content_type, headers, True)
