"""Shared fixtures: the upstream test double, and a gateway in front of it on loopback."""

from __future__ import annotations

import asyncio
import sysconfig
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import create_engine, text

import clearance
from clearance.app import AUDIT, create_app
from clearance.audit.store import SqlAuditStore
from clearance.config import GatewayConfig, parse_config
from clearance.localmodel import LocalModelServer, provision
from clearance.server import runner_options
from clearance.testing.fake_upstream import FakeUpstream


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test compiled modules older than their sources.

    In a checkout built in place (``./scripts/setup``: an editable install compiled by setup.py), Python imports a
    module's extension before its ``.py``: after an edit, the tests would run the code as it was at the last build.
    """
    root = Path(clearance.__file__).resolve().parents[1]
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    library = root / f"clearance__mypyc{suffix}"
    if not (root / "setup.py").exists() or not library.exists():
        return  # not a checkout with an in-place compiled build
    built = library.stat().st_mtime
    sources = (ext.with_name(ext.name.removesuffix(suffix) + ".py") for ext in (root / "clearance").rglob(f"*{suffix}"))
    stale = sorted(str(py.relative_to(root)) for py in sources if py.exists() and py.stat().st_mtime > built)
    if stale:
        pytest.exit(
            f"{', '.join(stale)} changed since the compiled build: run ./scripts/setup to rebuild "
            "(or CLEARANCE_PURE_PYTHON=1 ./scripts/setup to work on them in pure Python)",
            returncode=4,
        )


@pytest.fixture
async def fake_upstream() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


@dataclass
class RunningGateway:
    server: TestServer
    app: web.Application
    config: GatewayConfig

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def base_url(self) -> str:
        return self.url + "/v1"

    @property
    def audit(self) -> SqlAuditStore:
        store = self.app[AUDIT]
        assert isinstance(store, SqlAuditStore)
        return store

    async def records(self) -> list[dict[str, Any]]:
        await self.audit.flush()
        return self.audit.recent(1000)


GatewayFactory = Callable[..., Awaitable[RunningGateway]]


def gateway_config(tmp_path: Path, upstreams: list[dict[str, Any]], **extra: Any) -> GatewayConfig:
    return parse_config({"upstreams": upstreams, "database": {"url": f"sqlite:///{tmp_path / 'audit.db'}"}, **extra})


@pytest.fixture
async def make_gateway(tmp_path: Path) -> AsyncIterator[GatewayFactory]:
    servers: list[TestServer] = []

    async def make(
        upstreams: list[dict[str, Any]], *, clock: Callable[[], float] = time.time, **extra: Any
    ) -> RunningGateway:
        """``extra``: sections of the configuration file; ``clock``: the time approvals read."""
        config = gateway_config(tmp_path, upstreams, **extra)
        app = create_app(config, clock=clock)
        server = TestServer(app, host="127.0.0.1")
        # served as clearance.server serves it (TestServer adds handler_cancellation itself)
        options = {k: v for k, v in runner_options(config.server).items() if k != "handler_cancellation"}
        await server.start_server(**options)
        servers.append(server)
        return RunningGateway(server, app, config)

    yield make
    for server in servers:
        await server.close()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory, fake_upstream: FakeUpstream) -> RunningGateway:
    """A gateway with one OpenAI-kind upstream (the double) serving ``fake-model``."""
    return await make_gateway(
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": [{"name": "fake-model", "aliases": ["fm"]}]}]
    )


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL on 127.0.0.1:5432 (database ``test``), dropped afterwards."""
    with postgres_schema() as url:
        yield url


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a fresh schema in the real PostgreSQL (database ``test``), dropped on the way out."""
    schema = f"clearance_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def local_model() -> AsyncIterator[LocalModelServer]:
    """The real local model (llama-server + SmolLM2-135M-Instruct) on loopback, one per test session.

    The first run on a machine builds llama-server (about 10 minutes on 2 cores) into the cache;
    later runs reuse it and start in seconds. Use ``.base_url`` (ends in /v1) and ``.model``.
    """
    paths = await asyncio.to_thread(provision)
    async with LocalModelServer.start(paths) as server:
        yield server
