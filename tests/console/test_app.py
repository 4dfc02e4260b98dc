"""The console on the gateway's app: on by default, off with ``console.enabled: false``, its session key from the
configuration (or made at start, with a warning)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from clearance.app import create_app
from clearance.config import GatewayConfig
from clearance.console.access import CONSOLE
from clearance.console.app import PAGES
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import gateway_config


def settings(tmp_path: Path, upstream: FakeUpstream, **console: Any) -> GatewayConfig:
    return gateway_config(tmp_path, [{"name": "f", "base_url": upstream.base_url, "models": ["m"]}], console=console)


async def test_when_the_console_is_disabled_then_its_paths_are_unknown_routes(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    app = create_app(settings(tmp_path, fake_upstream, enabled=False))
    assert CONSOLE not in app
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session, session.get(server.make_url("/console/")) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "unknown_route"
    finally:
        await server.close()


def test_when_a_session_secret_is_configured_then_sessions_outlive_the_process(
    fake_upstream: FakeUpstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("CONSOLE_SECRET", "k" * 40)
    config = settings(tmp_path, fake_upstream, session={"secret": {"env": "CONSOLE_SECRET"}, "idle_timeout": 60})
    first, second = create_app(config)[CONSOLE].codec, create_app(config)[CONSOLE].codec
    session = first.new(Identity.anonymous())
    assert second.load(first.dump(session)) == session
    assert first.idle_timeout == 60
    assert "console.session.secret is not set" not in caplog.text


def test_when_no_session_secret_is_configured_then_each_start_makes_its_own_and_says_so(
    fake_upstream: FakeUpstream, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = settings(tmp_path, fake_upstream)
    first, second = create_app(config)[CONSOLE].codec, create_app(config)[CONSOLE].codec
    assert second.load(first.dump(first.new(Identity.anonymous()))) is None
    assert "console.session.secret is not set" in caplog.text


def test_every_page_area_registers_its_routes() -> None:
    assert all(callable(getattr(page, "register", None)) for page in PAGES)
