"""Reading a request's body: within its time and size, decoded from its ``Content-Encoding``, parsed as JSON.

The gateway reads compressed request bodies itself (the server runs with aiohttp's ``auto_decompress`` off, see
``clearance.server.runner_options``), so that every outcome is one of its own answers, recorded like any other:

======================================  ======================================================================
the body                                 answer
======================================  ======================================================================
gzip or deflate that decodes whole       inspected like any body (decoded size bounded by max_body_bytes)
bytes that do not match their encoding   400 ``invalid_encoding`` (corrupt, truncated, trailing bytes)
any other encoding, or several           415 ``unsupported_encoding``: never forwarded unread
slower than ``server.body_timeout``      408 ``request_timeout``, and the connection is closed
larger than ``server.max_body_bytes``    413 ``payload_too_large`` (before or after decoding)
not JSON, or nested too deeply           400 ``invalid_json`` / ``json_too_deep``
======================================  ======================================================================
"""

from __future__ import annotations

import asyncio
import zlib

from aiohttp import web
from multidict import CIMultiDictProxy

from clearance.exceptions import InvalidJSON, InvalidRequest, PayloadTooLarge, RequestTimeout, UnsupportedEncoding
from clearance.payload.extract import NestedTooDeeply, Walked, walk_body
from clearance.proxy.json_codec import JsonCodec, JsonRefused

DECODED_ENCODINGS = ("gzip", "x-gzip", "deflate")
"""The ``Content-Encoding`` values a request body may have (besides none and ``identity``)."""

_GZIP_WBITS = 16 + zlib.MAX_WBITS
_ZLIB_WBITS = zlib.MAX_WBITS
_RAW_DEFLATE_WBITS = -zlib.MAX_WBITS


class EncodingMismatch(InvalidRequest):
    code = "invalid_encoding"


def content_coding(headers: CIMultiDictProxy[str]) -> str | None:
    """The body's single content coding, lower case; None for none or ``identity``. 415 for anything else."""
    values = headers.getall("Content-Encoding", [])
    codings = [c.strip().lower() for v in values for c in v.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if len(codings) > 1 or codings[0] not in DECODED_ENCODINGS:
        raise UnsupportedEncoding(
            "the request body's Content-Encoding is not one this gateway decodes; send it uncompressed or with "
            f"one of: {', '.join(DECODED_ENCODINGS)}"
        )
    return codings[0]


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the decoded request body is larger than {limit} bytes (server.max_body_bytes)")


def _mismatch(coding: str) -> EncodingMismatch:
    return EncodingMismatch(f"the request body is not valid {coding} data, as its Content-Encoding says it is")


def decode_body(raw: bytes, coding: str | None, limit: int) -> bytes:
    """``raw`` decoded from ``coding``, at most ``limit`` bytes out (a compression bomb stops at the limit).

    The whole input must be consumed by complete streams (several gzip members are allowed, as in files made
    by appending): truncated data or trailing bytes are a mismatch, never passed on.
    """
    if coding is None or not raw:
        return raw
    out: list[bytes] = []
    size = 0
    rest = raw
    while rest:
        # RFC 9110 deflate is zlib-wrapped; some clients send a raw deflate stream (which aiohttp accepts too)
        wbits = _GZIP_WBITS if coding != "deflate" else _ZLIB_WBITS if rest[0] & 0x0F == 8 else _RAW_DEFLATE_WBITS
        decoder = zlib.decompressobj(wbits)
        try:
            piece = decoder.decompress(rest, limit - size + 1)
        except zlib.error:
            raise _mismatch(coding) from None
        size += len(piece)
        if size > limit or decoder.unconsumed_tail:
            raise _too_large(limit)
        if not decoder.eof:
            raise _mismatch(coding)
        out.append(piece)
        rest = decoder.unused_data
        if rest and coding == "deflate":
            raise _mismatch(coding)
    return b"".join(out)


async def read_body(request: web.Request, *, max_bytes: int, timeout: float) -> bytes:
    """The raw body, read within ``timeout`` seconds and ``max_bytes`` (413 before reading, when declared)."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise PayloadTooLarge(
            f"the request body is {length} bytes; this gateway accepts at most {max_bytes} (server.max_body_bytes)"
        )
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except TimeoutError:
        raise RequestTimeout(
            f"the request body did not arrive within {timeout:g} seconds (server.body_timeout)"
        ) from None
    except web.HTTPRequestEntityTooLarge:
        raise PayloadTooLarge(f"the request body is larger than {max_bytes} bytes (server.max_body_bytes)") from None
    except (web.RequestPayloadError, ConnectionError, ValueError):
        raise InvalidRequest(
            "the request body could not be read (broken chunked framing or a cut connection)"
        ) from None


def parse_body(raw: bytes, codec: JsonCodec) -> Walked:
    """The body as JSON, walked once (``walk_body``: its leaves, for the enforcement stage; the walk checks the
    depth); 400 when it is empty, not JSON, or nested deeper than the codec allows."""
    if not raw:
        raise InvalidJSON("the request body is empty; send a JSON object")
    try:
        return walk_body(codec.loads(raw, bounded=False), codec.max_depth)
    except (JsonRefused, NestedTooDeeply) as refused:
        if isinstance(refused, NestedTooDeeply) or refused.reason == "too_deep":
            raise InvalidJSON(
                f"the request body is nested deeper than {codec.max_depth} levels (server.max_json_depth)",
                code="json_too_deep",
            ) from None
        raise InvalidJSON(f"the request body is not valid JSON ({refused.detail})") from None
