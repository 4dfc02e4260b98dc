"""``clearance login``, ``clearance token`` and ``clearance logout``: a user's token for the gateway.

``clearance login`` signs in through the device authorization grant (falling back to authorization code with
PKCE on a loopback redirect) and stores the tokens (``clearance.cli.token_file``). ``clearance token`` prints a
valid bearer token, refreshing it first when needed, so that ``OPENAI_API_KEY=$(clearance token)`` works.
Prompts go to stderr: stdout carries the token only.
"""

from __future__ import annotations

import asyncio
import sys
import time
import webbrowser
from typing import Any

import aiohttp
import typer

from clearance.cli import oauth_flows, token_file
from clearance.cli.oauth_flows import DevicePrompt, LoginError, LoginRequest
from clearance.cli.token_file import TokenFileError

PROFILE_HELP = "Name of the stored login (several gateways or identities can coexist)."


def _err(message: str) -> None:
    typer.echo(message, err=True)


async def _show_device_prompt(prompt: DevicePrompt) -> None:
    _err(f"To sign in, open {prompt.verification_uri} and enter the code {prompt.user_code}")
    if prompt.verification_uri_complete:
        _err(f"(or open {prompt.verification_uri_complete})")
    _err("Waiting for the sign-in to finish…")


async def _open_browser(url: str) -> None:
    _err(f"Opening your browser to sign in. If it does not open, visit:\n{url}")
    await asyncio.to_thread(webbrowser.open, url)


async def run_login(
    request: LoginRequest,
    *,
    method: str = "auto",
    port: int = 0,
    show: Any = _show_device_prompt,
    open_browser: Any = _open_browser,
    poll_interval: float | None = None,
) -> token_file.StoredLogin:
    """Sign in (``method``: auto, device or browser) and return what to store."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        endpoints = await oauth_flows.discover(session, request.issuer)
        tokens = None
        if method in ("auto", "device"):
            try:
                tokens = await oauth_flows.device_flow(session, request, endpoints, show, poll_interval=poll_interval)
            except oauth_flows.DeviceGrantUnavailable as exc:
                if method == "device":
                    raise
                _err(f"Device sign-in unavailable ({exc}); using the browser instead.")
        if tokens is None:
            tokens = await oauth_flows.authorization_code_flow(session, request, endpoints, open_browser, port=port)
        return oauth_flows.stored_login(request, endpoints, tokens, now=time.time())


async def run_token(profile: str) -> str:
    """The bearer token to print, refreshed (and saved) when it is about to expire."""
    login = token_file.load(profile)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        bearer, renewed = await oauth_flows.current_token(session, login)
    if renewed is not None:
        token_file.save(profile, renewed)
    return bearer


def _parse_params(values: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r}: expected KEY=VALUE", param_hint="--param")
        params[key] = value
    return params


def login(
    issuer: str = typer.Option(..., envvar="CLEARANCE_ISSUER", help="The OpenID provider (issuer URL)."),
    client_id: str = typer.Option(..., envvar="CLEARANCE_CLIENT_ID", help="The public client registered for the CLI."),
    scope: str = typer.Option(
        "openid profile email offline_access", envvar="CLEARANCE_SCOPE", help="Scopes to ask for."
    ),
    resource: str | None = typer.Option(
        None,
        envvar="CLEARANCE_RESOURCE",
        help="RFC 8707 resource indicator (the gateway's audience).",
    ),
    param: list[str] = typer.Option(
        [], "--param", help="Extra authorization parameter KEY=VALUE (e.g. audience=… for Auth0)."
    ),
    id_token: bool = typer.Option(
        False, "--id-token", help="Send the ID token (Google: its access tokens are opaque)."
    ),
    method: str = typer.Option("auto", help="auto (device, else browser), device or browser."),
    port: int = typer.Option(0, help="Loopback port for the browser redirect (0: any free port)."),
    profile: str = typer.Option("default", help=PROFILE_HELP),
) -> None:
    """Sign in with your identity provider and store the tokens for `clearance token`."""
    if method not in ("auto", "device", "browser"):
        raise typer.BadParameter("expected auto, device or browser", param_hint="--method")
    request = LoginRequest(
        issuer=issuer,
        client_id=client_id,
        scope=scope,
        resource=resource,
        extra_params=_parse_params(param),
        use_id_token=id_token,
    )
    try:
        stored = asyncio.run(run_login(request, method=method, port=port))
        path = token_file.save(profile, stored)
    except (LoginError, TokenFileError) as exc:
        _err(f"clearance login: {exc}")
        raise typer.Exit(1) from None
    _err(f"Signed in. Tokens stored in {path}; `clearance token` prints a valid one.")


def token(profile: str = typer.Option("default", help=PROFILE_HELP)) -> None:
    """Print a valid bearer token (refreshing it if needed): OPENAI_API_KEY=$(clearance token)."""
    try:
        bearer = asyncio.run(run_token(profile))
    except (LoginError, TokenFileError) as exc:
        _err(f"clearance token: {exc}")
        raise typer.Exit(1) from None
    sys.stdout.write(bearer + "\n")


def logout(profile: str = typer.Option("default", help=PROFILE_HELP)) -> None:
    """Forget the stored tokens of a profile."""
    try:
        removed = token_file.remove(profile)
    except TokenFileError as exc:
        _err(f"clearance logout: {exc}")
        raise typer.Exit(1) from None
    _err("Logged out." if removed else "Not logged in.")


def register(app: typer.Typer) -> None:
    app.command("login")(login)
    app.command("token")(token)
    app.command("logout")(logout)
