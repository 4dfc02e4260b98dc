"""A JSON body read within its limits, and a resource answered as JSON (no-store when private)."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp import web
from aiohttp.streams import StreamReader
from aiohttp.test_utils import make_mocked_request
from pydantic import BaseModel

from clearance.admin.bodies import json_body, resource_response
from clearance.exceptions import InvalidJSON, PayloadTooLarge

EXAMPLE = '{"name": "..."}'


class Thing(BaseModel):
    name: str


def posted(body: bytes) -> web.Request:
    protocol = make_mocked_request("POST", "/").protocol
    payload = StreamReader(protocol, 2**16, loop=asyncio.get_running_loop())
    payload.feed_data(body)
    payload.feed_eof()
    return make_mocked_request("POST", "/", headers={"Content-Length": str(len(body))}, payload=payload)


@pytest.mark.parametrize(
    ("body", "parsed"), [(b'{"name": "x"}', {"name": "x"}), (b"", {}), (b"  \n", {}), (b"[1]", [1])]
)
async def test_when_a_body_is_json_within_the_limit_then_it_is_parsed(body: bytes, parsed: object) -> None:
    assert await json_body(posted(body), max_bytes=64, timeout=5, example=EXAMPLE) == parsed


async def test_when_a_body_is_not_json_then_invalid_json_says_what_to_send() -> None:
    with pytest.raises(InvalidJSON, match=re.escape('send {"name": "..."}')):
        await json_body(posted(b"{name"), max_bytes=64, timeout=5, example=EXAMPLE)


async def test_when_a_body_is_larger_than_the_limit_then_413() -> None:
    with pytest.raises(PayloadTooLarge):
        await json_body(posted(b'{"name": "' + b"x" * 100 + b'"}'), max_bytes=64, timeout=5, example=EXAMPLE)


def test_when_a_resource_is_answered_then_it_is_json_and_private_ones_are_not_cached() -> None:
    plain = resource_response(Thing(name="a"), status=201)
    private = resource_response(Thing(name="b"), private=True)

    assert (plain.status, plain.content_type, plain.text) == (201, "application/json", '{"name":"a"}')
    assert "Cache-Control" not in plain.headers
    assert private.headers["Cache-Control"] == "no-store"
