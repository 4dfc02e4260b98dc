"""The plain aiohttp pass-through relays what the upstream says, whole or streamed, byte for byte."""

from __future__ import annotations

import re

import aiohttp
from aiohttp.test_utils import TestServer

from bench.loadgen import chat_body
from bench.plain_proxy import make_app
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour


async def test_when_a_request_passes_through_then_upstream_and_caller_see_the_same_bytes() -> None:
    behaviour = FakeUpstreamBehaviour(events=12)
    async with FakeUpstream(behaviour=behaviour) as upstream, aiohttp.ClientSession() as session:
        proxy = TestServer(make_app(upstream.root), host="127.0.0.1")
        await proxy.start_server()
        try:
            for stream in (False, True):
                body = chat_body(stream)
                url = "/v1/chat/completions"
                async with session.post(upstream.root + url, data=body) as direct:
                    expected = await direct.read()
                async with session.post(str(proxy.make_url(url)), data=body) as relayed:
                    got = await relayed.read()
                    content_type = relayed.headers["Content-Type"]
                assert relayed.status == 200
                assert content_type.startswith("text/event-stream" if stream else "application/json")
                # the double stamps "created" with the current second: compare everything else
                assert _without_created(got) == _without_created(expected)
                assert upstream.received[-1].body == upstream.received[-2].body
        finally:
            await proxy.close()


def _without_created(body: bytes) -> bytes:
    return re.sub(rb'"created": ?\d+', b'"created":0', body)
