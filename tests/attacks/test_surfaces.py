"""Connections and surfaces: slow or silent clients are dropped, upstream redirects are not followed to another
origin, and ``/metrics`` and the detail of ``/readyz`` are served only to loopback or authenticated callers.

The gateway here is configured with small header and body read timeouts (``server.header_timeout`` /
``server.body_timeout``, half a second); a client that is still connected a few seconds later was not dropped.
Callers from another address are simulated by a test-only middleware that sets the request's remote address
(the suite only ever binds loopback), so the gateway's own checks see a non-loopback caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import orjson
import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer

from clearance.app import create_app
from clearance.config import parse_config
from clearance.tasks import TaskSet
from tests.attacks.conftest import (
    ATTACK_LOOP,
    OPENAI_MODEL,
    Attack,
    AttackGateway,
    Script,
    ScriptedUpstream,
    prompt_audit_store,
    served_as_in_production,
    upstream_config,
)
from tests.attacks.harness import VISA, ContractError, expect

pytestmark = ATTACK_LOOP

READ_TIMEOUTS = {"header_timeout": 0.5, "body_timeout": 0.5}
"""The settings this class needs (as the fix names them); without them the gateway keeps slow clients forever."""
DROP_WITHIN_S = 2.5
"""How long a test waits for the gateway to drop a client before calling it kept (a bound, not a measurement)."""
REMOTE = "203.0.113.9"


@web.middleware
async def simulated_remote(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Test-only: ``X-Test-Remote`` sets the address the gateway sees the caller at."""
    remote = request.headers.get("X-Test-Remote")
    return await handler(request.clone(remote=remote) if remote else request)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(upstream: ScriptedUpstream, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[AttackGateway]:
    db_path = tmp_path_factory.mktemp("surfaces") / "audit.db"
    base: dict[str, Any] = {"upstreams": upstream_config(upstream), "audit": {"url": f"sqlite:///{db_path}"}}
    config = parse_config({**base, "server": READ_TIMEOUTS})
    app = create_app(config, audit=prompt_audit_store(config.database.url))
    app.middlewares.append(simulated_remote)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(**served_as_in_production(config))
    yield AttackGateway(server, app, db_path)
    await server.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def elsewhere() -> AsyncIterator[ScriptedUpstream]:
    """Another origin (another port) that a redirect could point to."""
    async with ScriptedUpstream() as other:
        yield other


async def dropped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes = b"") -> bool:
    """Whether the gateway closes the connection within ``DROP_WITHIN_S``, while we send ``trickle`` a byte at a
    time (or nothing). A 408 answer followed by the close counts as dropped."""

    async def wait_for_close() -> None:
        while await reader.read(4096):
            pass

    async def keep_trickling() -> None:
        try:
            for byte in trickle:
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(0.1)
        except (ConnectionResetError, BrokenPipeError):
            return  # the gateway hung up: what this test waits for
        await asyncio.sleep(3600)

    tasks = TaskSet()
    _ = tasks.spawn(keep_trickling())
    try:
        await asyncio.wait_for(wait_for_close(), DROP_WITHIN_S)
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    finally:
        await tasks.cancel_all()
        writer.close()


HEAD = b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
BODY = orjson.dumps({"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]})

SLOW: dict[str, tuple[bytes, bytes]] = {
    "silent_after_connect": (b"", b""),
    "headers_never_finished": (HEAD, b""),
    "headers_trickled_forever": (b"", HEAD + b"X-Slow: " + b"a" * 200),
    "body_never_sent": (HEAD + b"Content-Length: 1000\r\n\r\n", b""),
    "body_trickled_forever": (HEAD + b"Content-Length: 100000\r\n\r\n", b"x" * 200),
    "chunked_body_never_ends": (HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", b""),
}


@pytest.mark.parametrize("case", SLOW, ids=list(SLOW))
async def test_slow_or_silent_client_is_dropped(attack: Attack, case: str) -> None:
    first, trickle = SLOW[case]
    reader, writer = await asyncio.open_connection("127.0.0.1", attack.gw.server.port)
    if first:
        writer.write(first)
        await writer.drain()
    expect(
        await dropped(reader, writer, trickle),
        f"a {case.replace('_', ' ')} client was still connected after {DROP_WITHIN_S} s",
    )
    expect(not attack.upstream.received, f"a {case} request reached the upstream")


async def test_many_trickling_clients_are_all_dropped(attack: Attack) -> None:
    connections = [await asyncio.open_connection("127.0.0.1", attack.gw.server.port) for _ in range(12)]
    results = await asyncio.gather(*(dropped(r, w, HEAD + b"X-Slow: " + b"b" * 100) for r, w in connections))
    expect(all(results), f"{results.count(False)} of {len(results)} trickling clients were kept open")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_upstream_redirect_to_another_origin_is_not_followed(
    attack: Attack, elsewhere: ScriptedUpstream, status: int
) -> None:
    elsewhere.reset()
    target = f"{elsewhere.base_url}/chat/completions"
    attack.upstream.script = Script([b""], status=status, headers={"Location": target, "Content-Type": "text/plain"})
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": f"card {VISA.raw} please"}]}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA], allowed_5xx=(502,))
    if elsewhere.received:
        raise ContractError(
            f"a {status} redirect to another origin was followed ({len(elsewhere.received)} request(s) sent there)"
        )


async def get(attack: Attack, path: str, remote: str | None) -> tuple[int, bytes]:
    headers = {"X-Test-Remote": remote} if remote else {}
    async with aiohttp.ClientSession() as session, session.get(attack.gw.url + path, headers=headers) as response:
        return response.status, await response.read()


async def test_metrics_refused_to_a_remote_unauthenticated_caller(attack: Attack) -> None:
    status, body = await get(attack, "/metrics", REMOTE)
    expect(status in (401, 403, 404), f"/metrics answered {status} to a non-loopback caller without credentials")
    expect(b"clearance_" not in body, "/metrics content reached a non-loopback caller")


async def test_readyz_detail_hidden_from_a_remote_caller(attack: Attack) -> None:
    status, body = await get(attack, "/readyz", REMOTE)
    expect(status in (200, 401, 403, 503), f"/readyz answered {status}")
    text = body.decode("utf-8", "replace")
    named = [name for name in ('"fake"', '"olla"', OPENAI_MODEL, "upstreams_reachable") if name in text]
    expect(not named, f"/readyz told a non-loopback caller about {', '.join(named)}")


async def test_forwarded_for_header_does_not_make_a_remote_caller_local(attack: Attack) -> None:
    headers = {"X-Test-Remote": REMOTE, "X-Forwarded-For": "127.0.0.1", "X-Real-IP": "127.0.0.1"}
    async with aiohttp.ClientSession() as session, session.get(attack.gw.url + "/metrics", headers=headers) as response:
        status = response.status
    expect(status in (401, 403, 404), f"/metrics answered {status} to a remote caller claiming to be loopback")


async def test_remote_anonymous_caller_cannot_reach_a_model(attack: Attack) -> None:
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]}
    reply = await attack.post("/v1/chat/completions", body, headers={"X-Test-Remote": REMOTE})
    expect(reply.status in (401, 403), f"a non-loopback anonymous caller got {reply.status}")
    expect(not attack.upstream.received, "a non-loopback anonymous caller's request reached the upstream")


async def test_metrics_served_to_loopback(attack: Attack) -> None:
    """The control: the operator on the same host still gets the metrics."""
    status, body = await get(attack, "/metrics", None)
    expect(status == 200 and b"clearance_" in body, f"/metrics refused a loopback caller ({status})")
