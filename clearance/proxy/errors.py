"""Render errors in the OpenAI error format: ``{"error": {"message", "type", "code", "param"}}``."""

from __future__ import annotations

import orjson
from aiohttp import web

from clearance.exceptions import ClearanceError

JSON_CONTENT_TYPE = "application/json"


def error_body(error: ClearanceError) -> bytes:
    return orjson.dumps(
        {
            "error": {
                "message": error.message,
                "type": error.type,
                "code": error.code,
                "param": error.param,
                **error.details,
            }
        }
    )


def error_response(error: ClearanceError, request_id: str | None = None) -> web.Response:
    headers = dict(error.headers)
    if request_id is not None:
        headers["X-Request-ID"] = request_id
    return web.Response(
        body=error_body(error),
        status=error.http_status,
        content_type=JSON_CONTENT_TYPE,
        headers=headers,
    )
