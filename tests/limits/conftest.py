"""The real Redis on 127.0.0.1:6379, each test under its own key prefix, its keys deleted afterwards."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
async def key_prefix() -> AsyncIterator[str]:
    prefix = f"clearance-test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = Redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_keys(key_prefix: str) -> AsyncIterator[Redis]:
    """A client to look at what the limiter wrote under ``key_prefix``."""
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed): Redis there is unreachable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
