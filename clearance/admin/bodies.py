"""What the admin API's handlers share on the wire: a JSON body read within its limits (``json_body``), and a
resource answered as JSON (``resource_response``), ``Cache-Control: no-store`` when it holds a secret (a raw API
key, a record's revealed originals)."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from pydantic import BaseModel

from clearance.exceptions import InvalidJSON, PayloadTooLarge
from clearance.proxy.errors import JSON_CONTENT_TYPE
from clearance.proxy.request_body import read_body


async def json_body(request: web.Request, *, max_bytes: int, timeout: float, example: str) -> Any:
    """The request's body parsed as JSON (an empty body: ``{}``): at most ``max_bytes``, arriving within
    ``timeout`` seconds (413 and 408 otherwise); 400 ``invalid_json`` for what does not parse. ``example`` is the
    body the errors tell the caller to send."""
    raw = await read_body(request, max_bytes=max_bytes, timeout=timeout)
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"the body is larger than {max_bytes} bytes: send {example}")
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise InvalidJSON(f"the body is not valid JSON: send {example}") from None


def resource_response(resource: BaseModel, *, status: int = 200, private: bool = False) -> web.Response:
    """``resource`` as the JSON answer; ``private``: it must not be kept by any cache."""
    headers = {"Cache-Control": "no-store"} if private else None
    return web.Response(body=resource.model_dump_json(), status=status, content_type=JSON_CONTENT_TYPE, headers=headers)
