"""`clearance login`, `clearance token` and `clearance logout` as a user runs them."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app, token_file
from clearance.cli.login import run_login
from clearance.cli.oauth_flows import DevicePrompt, LoginRequest
from tests.oidc.harness import API, Browser, OidcProvider

SCOPE = "openid profile email groups offline_access api"


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def logged_in(provider: OidcProvider) -> token_file.StoredLogin:
    """Sign alice in through the device grant, as `clearance login` does, and store the result."""

    async def sign_in() -> token_file.StoredLogin:
        browser = Browser(provider.issuer, login="alice")

        async def show(prompt: DevicePrompt) -> None:
            await browser.approve_device(prompt.verification_uri, prompt.user_code)

        try:
            request = LoginRequest(issuer=provider.issuer, client_id="cli", scope=SCOPE, resource=API)
            return await run_login(request, method="device", show=show, poll_interval=0.1)
        finally:
            await browser.close()

    stored = asyncio.run(sign_in())
    token_file.save("default", stored)
    return stored


def test_when_logged_in_then_clearance_token_prints_only_the_token(provider: OidcProvider) -> None:
    stored = logged_in(provider)

    result = CliRunner().invoke(app, ["token"])

    assert result.exit_code == 0, result.output
    assert result.stdout == stored.access_token + "\n"


def test_when_the_stored_token_expired_then_clearance_token_refreshes_and_saves_it(provider: OidcProvider) -> None:
    stored = logged_in(provider)
    stored.expires_at = time.time() - 1
    token_file.save("default", stored)

    result = CliRunner().invoke(app, ["token"])

    assert result.exit_code == 0, result.output
    printed = result.stdout.strip()
    assert printed != stored.access_token and printed.count(".") == 2
    assert token_file.load("default").access_token == printed
    assert token_file.load("default").expires_at > time.time()


def test_when_not_logged_in_then_clearance_token_fails_on_stderr_only() -> None:
    result = CliRunner().invoke(app, ["token"])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "clearance login" in result.stderr


def test_when_login_cannot_reach_the_issuer_then_it_exits_1_saying_what_to_check() -> None:
    result = CliRunner().invoke(app, ["login", "--issuer", "http://127.0.0.1:9", "--client-id", "cli"])

    assert result.exit_code == 1
    assert "--issuer" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [(["--method", "carrier-pigeon"], "auto, device or browser"), (["--param", "novalue"], "KEY=VALUE")],
)
def test_when_login_options_are_wrong_then_it_says_which(args: list[str], fragment: str) -> None:
    result = CliRunner().invoke(app, ["login", "--issuer", "http://127.0.0.1:9", "--client-id", "cli", *args])

    assert result.exit_code == 2
    assert fragment in result.output


def test_when_logging_out_then_clearance_token_needs_a_new_login(provider: OidcProvider) -> None:
    logged_in(provider)

    assert CliRunner().invoke(app, ["logout"]).exit_code == 0
    assert CliRunner().invoke(app, ["token"]).exit_code == 1
