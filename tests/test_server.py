"""How the gateway's HTTP server runs: slow or silent clients are dropped (``server.header_timeout``); what start-up
built is frozen out of the garbage collector's reach."""

from __future__ import annotations

import asyncio
import gc
import logging
from pathlib import Path

import aiohttp
import pytest

from bench.processes import free_port
from clearance.config import ServerConfig, parse_config
from clearance.server import freeze_startup_objects, run_gateway, runner_options
from clearance.tasks import TaskSet
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

ROUNDS = 400
"""Upper bound on trickled bytes: far more than the header timeout allows at the pace below."""


async def slow_gateway(make_gateway: GatewayFactory, upstream: FakeUpstream) -> RunningGateway:
    return await make_gateway(
        [{"name": "fake", "base_url": upstream.base_url, "models": ["fake-model"]}],
        server={"header_timeout": 0.3, "body_timeout": 0.3},
    )


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    """Whether the server closed the connection (bounded wait, no timing assertion)."""
    try:
        data = await asyncio.wait_for(reader.read(), timeout=10)
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return b"HTTP/1.1 200" not in data


def test_runner_options_carry_the_timeouts() -> None:
    options = runner_options(ServerConfig(header_timeout=7, body_timeout=3))
    assert options["keepalive_timeout"] == 7
    assert options["lingering_time"] == 3
    assert options["auto_decompress"] is False


async def test_a_silent_client_is_disconnected(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> None:
    gw = await slow_gateway(make_gateway, fake_upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.server.port)
    assert await closed_by_server(reader)
    writer.close()


async def test_a_client_trickling_its_headers_is_disconnected(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await slow_gateway(make_gateway, fake_upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.server.port)
    request = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * ROUNDS
    closed = False
    for byte in request:  # one byte at a time, never finishing the headers
        try:
            writer.write(bytes([byte]))
            await writer.drain()
        except ConnectionError:
            closed = True
            break
        if reader.at_eof():
            closed = True
            break
        await asyncio.sleep(0.02)
        if reader.at_eof() or writer.is_closing():
            closed = True
            break
    if not closed:
        closed = await closed_by_server(reader)
    writer.close()
    assert closed
    assert fake_upstream.received == []


async def test_an_idle_keep_alive_connection_is_closed(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream
) -> None:
    gw = await slow_gateway(make_gateway, fake_upstream)
    reader, writer = await asyncio.open_connection("127.0.0.1", gw.server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    assert head.startswith(b"HTTP/1.1 200")
    assert await closed_by_server(reader)  # then silence: closed after header_timeout
    writer.close()


def test_when_startup_objects_are_frozen_then_later_collections_do_not_walk_them() -> None:
    gc.unfreeze()
    try:
        built_at_start = [[i] for i in range(1000)]  # tracked containers, alive past start
        freeze_startup_objects()
        assert gc.get_freeze_count() >= len(built_at_start)
        collectable = {id(o) for o in gc.get_objects()}  # every generation but the frozen one
        assert not any(id(x) in collectable for x in built_at_start)
    finally:
        gc.unfreeze()


async def test_when_the_gateway_has_started_then_its_startup_objects_are_frozen(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gc.unfreeze()
    config = parse_config(
        {
            "server": {"host": "127.0.0.1", "port": free_port()},
            "upstreams": [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
            "audit": {"url": f"sqlite:///{tmp_path / 'audit.db'}"},
        }
    )
    ready, stop = asyncio.Event(), asyncio.Event()
    tasks = TaskSet()
    running = tasks.spawn(run_gateway(config, ready=ready, stop=stop))
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        assert gc.get_freeze_count() > 10_000  # the app, its stores, the engine: far more than a few objects
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        gc.unfreeze()


async def test_when_the_gateway_listens_on_port_zero_then_its_log_names_the_port_it_got(
    fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = parse_config(
        {
            "server": {"host": "127.0.0.1", "port": 0, "drain": {"grace": 0, "deadline": 5}},
            "upstreams": [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model"]}],
            "audit": {"url": f"sqlite:///{tmp_path / 'audit.db'}"},
        }
    )
    ready, stop = asyncio.Event(), asyncio.Event()
    tasks = TaskSet()
    caplog.set_level(logging.INFO, logger="clearance.server")
    running = tasks.spawn(run_gateway(config, ready=ready, stop=stop))
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        [url] = [r.url for r in caplog.records if r.getMessage() == "listening"]  # type: ignore[attr-defined]
        assert not url.endswith(":0")
        async with aiohttp.ClientSession() as session, session.get(url + "/healthz") as answer:
            assert answer.status == 200  # the address logged is where it answers
    finally:
        stop.set()
        await asyncio.wait_for(running, timeout=30)
        gc.unfreeze()
