"""The shipped HAProxy example (``deploy/haproxy/clearance.cfg``) in front of a real gateway: behind it every caller
reaches the gateway from a loopback address, so the gateway would show anyone its metrics and readiness details.
The balancer refuses those paths, and spelling them another way must not get past it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bench.processes import Server, free_port
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway
from tests.e2e.cluster import HAPROXY_CONFIG, haproxy_binary

READY_TIMEOUT_S = 20.0


async def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """GET ``target`` exactly as written (no client normalises it) through the balancer; the status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        async with asyncio.timeout(10):
            answer = await reader.read()
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.fixture
async def balanced(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> AsyncIterator[tuple[RunningGateway, int]]:
    """One gateway behind the example configuration (its other two servers point at closed ports: down)."""
    haproxy = haproxy_binary()
    if haproxy is None:
        pytest.skip("Debian's haproxy is not installed: run ./scripts/setup (or apt-get install haproxy)")
    gateway = await make_gateway([{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}])
    port = free_port()
    env = [f"CLEARANCE_LISTEN=127.0.0.1:{port}", f"CLEARANCE_GATEWAY_1=127.0.0.1:{gateway.server.port}"]
    env += [f"CLEARANCE_GATEWAY_{i}=127.0.0.1:{free_port()}" for i in (2, 3)]
    command = ["sh", "-c", 'exec "$@" 1>&2', "sh", "env", *env, haproxy, "-db", "-f", str(HAPROXY_CONFIG)]
    balancer = Server("haproxy", command, port, tmp_path / "haproxy.log")
    await asyncio.to_thread(balancer.start, READY_TIMEOUT_S)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S  # until its health checks find the gateway up (bounded)
        async with aiohttp.ClientSession() as session:
            while True:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                    if response.status == 200:
                        break
                if time.monotonic() > deadline:  # a bound on the wait, not a speed check
                    pytest.fail(f"haproxy never saw the gateway up in {READY_TIMEOUT_S} s: {balancer.log_tail()}")
                await asyncio.sleep(0.1)
        yield gateway, port
    finally:
        await asyncio.to_thread(balancer.stop)


@pytest.mark.parametrize(
    "target",
    ["/metrics", "/readyz", "/%6Detrics", "/%6detrics", "/m%65trics", "/%72eadyz", "/%2Fmetrics", "/metrics?x=1"],
)
async def test_the_balancer_refuses_metrics_and_readiness_however_spelled(
    balanced: tuple[RunningGateway, int], target: str
) -> None:
    gateway, port = balanced
    status, body = await raw_get(port, target)
    assert status in (403, 404), (target, status)
    assert b"clearance_requests" not in body and b"checks" not in body
    # the gateway itself does serve such a spelling to a loopback caller: only the balancer stands in the way
    assert gateway.server.port is not None
    direct, _ = await raw_get(gateway.server.port, "/%6Detrics")
    assert direct == 200
