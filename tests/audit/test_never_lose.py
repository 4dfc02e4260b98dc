"""Never lose a record, through a real ``clearance serve`` process: SIGKILL it under load through the openai SDK,
start it again on the same database and spool, and every answer a client fully received has its record."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path
from typing import Any

import openai
import yaml

from bench.harness import gateway_server
from bench.processes import Server, free_port
from clearance.testing.fake_upstream import FakeUpstream

WORKERS = 8
KILL_AFTER = 60
"""Answers fully received before the gateway is killed (the workers' requests in flight are cut)."""


def config(port: int, upstream: FakeUpstream, database: Path) -> dict[str, Any]:
    return {
        "server": {"host": "127.0.0.1", "port": port},
        "upstreams": [
            {"name": "fake", "kind": "openai", "base_url": upstream.base_url, "models": [{"name": "fake-model"}]}
        ],
        "database": {"url": f"sqlite:///{database}"},
        "logging": {"level": "warning"},
    }


async def load(base_url: str, killed: asyncio.Event, received: list[str]) -> None:
    """``WORKERS`` callers, each sending requests one after another (half of them streamed) until the gateway goes
    away; ``received`` gets the request id of every answer read to its end."""
    client = openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)

    async def worker(number: int) -> None:
        for n in range(1000):  # bounded: the gateway is killed long before
            messages: Any = [{"role": "user", "content": f"hello {number} {n}"}]
            try:
                raw = await client.chat.completions.with_raw_response.create(
                    model="fake-model", messages=messages, stream=bool(n % 2)
                )
                request_id = raw.headers["x-request-id"]
                answer = raw.parse()
                if isinstance(answer, openai.AsyncStream):
                    async for _ in answer:  # ends without an error only at the stream's end
                        pass
            except (openai.APIConnectionError, openai.APIStatusError):
                assert killed.is_set()
                return
            received.append(request_id)
            if len(received) == KILL_AFTER:
                killed.set()

    await asyncio.gather(*(worker(number) for number in range(WORKERS)))
    await client.close()


async def test_when_the_gateway_is_killed_under_load_then_every_answer_received_has_its_record(
    tmp_path: Path,
) -> None:
    database = tmp_path / "audit.db"
    async with FakeUpstream() as upstream:
        port = free_port()
        gateway: Server = gateway_server(tmp_path, port, config(port, upstream, database), "asyncio")
        await asyncio.to_thread(gateway.start)
        killed = asyncio.Event()
        received: list[str] = []

        async def kill() -> None:
            await killed.wait()
            os.kill(gateway.pid, signal.SIGKILL)

        await asyncio.gather(load(gateway.url + "/v1", killed, received), kill())
        assert await asyncio.to_thread(gateway.stop) == -signal.SIGKILL  # reaped: it died of the kill
        assert len(received) >= KILL_AFTER
        (tmp_path / "clearance.yaml").write_text(yaml.safe_dump(config(port, upstream, database)))
        restarted = gateway_server(tmp_path, port, config(port, upstream, database), "asyncio")
        await asyncio.to_thread(restarted.start)  # replays what the killed one spooled
        assert await asyncio.to_thread(restarted.stop) == 0  # a clean stop writes everything it holds
    with sqlite3.connect(database) as connection:
        recorded = {row[0] for row in connection.execute("SELECT request_id FROM audit_records")}
    missing = sorted(set(received) - recorded)
    assert missing == []
