"""The OAuth client behind ``clearance login`` and ``clearance token`` (a public client: no secret).

- Device authorization grant (RFC 8628): the user opens a URL on any device and enters a code; we poll.
- Authorization code with PKCE (RFC 7636) on a loopback redirect (RFC 8252), when the provider has no device
  endpoint or refuses the device grant for this client.
- Refresh: a new access token from the refresh token.

Tokens are never printed or logged here; errors quote the provider's ``error`` code and description only.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web

from clearance.auth.pkce import pkce_pair
from clearance.cli.token_file import StoredLogin

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_MARGIN = 60.0
"""Seconds: a token closer than this to its expiry is refreshed before it is printed."""


class LoginError(Exception):
    """The login or refresh failed; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class LoginRequest:
    issuer: str
    client_id: str
    scope: str = "openid profile email offline_access"
    resource: str | None = None
    extra_params: Mapping[str, str] | None = None
    use_id_token: bool = False


@dataclass(frozen=True, slots=True)
class Endpoints:
    token: str
    authorization: str | None
    device_authorization: str | None


async def discover(session: aiohttp.ClientSession, issuer: str) -> Endpoints:
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with session.get(url) as resp:
            if resp.status != 200:
                raise LoginError(f"{url} answered HTTP {resp.status}: check --issuer")
            doc = await resp.json(content_type=None)
    except aiohttp.ClientError as exc:
        raise LoginError(f"cannot reach {url} ({type(exc).__name__}): check --issuer") from None
    if not isinstance(doc, dict) or doc.get("issuer") != issuer or "token_endpoint" not in doc:
        raise LoginError(f"{url} is not the discovery document of {issuer}: check --issuer")
    return Endpoints(
        token=doc["token_endpoint"],
        authorization=doc.get("authorization_endpoint"),
        device_authorization=doc.get("device_authorization_endpoint"),
    )


def _base_params(request: LoginRequest) -> dict[str, str]:
    params = {"client_id": request.client_id, "scope": request.scope}
    if request.resource:
        params["resource"] = request.resource
    params.update(request.extra_params or {})
    return params


async def _post_form(session: aiohttp.ClientSession, url: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
    try:
        async with session.post(url, data=dict(form), headers={"Accept": "application/json"}) as resp:
            body = await resp.json(content_type=None)
            return resp.status, body if isinstance(body, dict) else {}
    except (aiohttp.ClientError, ValueError) as exc:
        raise LoginError(f"{url} did not answer ({type(exc).__name__}): retry") from None


def _oauth_error(body: Mapping[str, Any]) -> str:
    error = str(body.get("error", "unknown_error"))
    description = body.get("error_description")
    return f"{error}: {description}" if description else error


def _expiry(token: str, expires_in: Any, now: float) -> float:
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.InvalidTokenError:
        exp = None  # an opaque token: trust expires_in
    if isinstance(exp, int | float):
        return float(exp)
    return now + float(expires_in) if isinstance(expires_in, int | float) else now + 300.0


def stored_login(request: LoginRequest, endpoints: Endpoints, tokens: Mapping[str, Any], *, now: float) -> StoredLogin:
    access = tokens.get("access_token")
    if not isinstance(access, str):
        raise LoginError("the provider answered without an access token")
    id_token = tokens.get("id_token") if isinstance(tokens.get("id_token"), str) else None
    if request.use_id_token and id_token is None:
        raise LoginError("the provider sent no ID token: add 'openid' to --scope")
    bearer = id_token if request.use_id_token and id_token else access
    refresh = tokens.get("refresh_token")
    return StoredLogin(
        issuer=request.issuer,
        client_id=request.client_id,
        token_endpoint=endpoints.token,
        scope=request.scope,
        access_token=access,
        id_token=id_token,
        refresh_token=refresh if isinstance(refresh, str) else None,
        expires_at=_expiry(bearer, tokens.get("expires_in"), now),
        use_id_token=request.use_id_token,
        resource=request.resource,
        extra_params=dict(request.extra_params or {}),
    )


@dataclass(frozen=True, slots=True)
class DevicePrompt:
    """What to show the user: where to go and which code to enter."""

    verification_uri: str
    user_code: str
    verification_uri_complete: str | None
    expires_in: float


class DeviceGrantUnavailable(LoginError):
    """The provider has no device endpoint, or will not use it for this client: fall back."""


async def device_flow(
    session: aiohttp.ClientSession,
    request: LoginRequest,
    endpoints: Endpoints,
    show: Callable[[DevicePrompt], Awaitable[None]],
    *,
    clock: Callable[[], float] = time.time,
    poll_interval: float | None = None,
) -> Mapping[str, Any]:
    """Run the device authorization grant; ``show`` tells the user where to go.

    Returns the token response. ``poll_interval`` overrides the provider's (tests only: RFC 8628 asks
    clients to keep to the provider's, 5 s when it names none).
    """
    if endpoints.device_authorization is None:
        raise DeviceGrantUnavailable("the provider has no device authorization endpoint")
    status, body = await _post_form(session, endpoints.device_authorization, _base_params(request))
    if status != 200 or "device_code" not in body:
        # Providers word "not for this client" differently (unauthorized_client, invalid_client, or
        # oidc-provider's invalid_request): any refusal means "try the browser" in auto mode.
        raise DeviceGrantUnavailable(f"device authorization refused ({_oauth_error(body)})")
    prompt = DevicePrompt(
        verification_uri=str(body["verification_uri"]),
        user_code=str(body["user_code"]),
        verification_uri_complete=body.get("verification_uri_complete"),
        expires_in=float(body.get("expires_in", 600)),
    )
    await show(prompt)
    interval = poll_interval if poll_interval is not None else float(body.get("interval", 5))
    deadline = clock() + prompt.expires_in
    form = {"grant_type": DEVICE_GRANT, "device_code": str(body["device_code"])}
    form["client_id"] = request.client_id
    while clock() < deadline:
        await asyncio.sleep(interval)
        status, tokens = await _post_form(session, endpoints.token, form)
        if status == 200:
            return tokens
        error = tokens.get("error")
        if error == "authorization_pending":
            continue
        if error == "slow_down":
            interval += 5
            continue
        if error == "access_denied":
            raise LoginError("the sign-in was declined: run `clearance login` again")
        if error == "expired_token":
            break
        raise LoginError(f"the provider refused the device code: {_oauth_error(tokens)}")
    raise LoginError("the code expired before the sign-in finished: run `clearance login` again")


_DONE_PAGE = (
    "<!doctype html><title>Clearance</title><p>Signed in. You can close this window and return to the terminal.</p>"
)


async def _receive_code(
    port: int,
    open_browser: Callable[[str], Awaitable[None]],
    url_for: Callable[[str], str],
    timeout: float,
) -> tuple[str, str, str]:
    """Listen on 127.0.0.1, send the user to the provider, return (code, state, redirect_uri)."""
    result: asyncio.Future[tuple[str, str]] = asyncio.get_running_loop().create_future()

    async def callback(req: web.Request) -> web.Response:
        if not result.done():
            if "error" in req.query:
                result.set_exception(LoginError(f"the provider refused: {_oauth_error(req.query)}"))
            elif "code" in req.query and "state" in req.query:
                result.set_result((req.query["code"], req.query["state"]))
            else:
                return web.Response(status=400, text="missing code")
        return web.Response(text=_DONE_PAGE, content_type="text/html")

    app = web.Application()
    app.router.add_get("/callback", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        bound = runner.addresses[0][1]
        redirect_uri = f"http://127.0.0.1:{bound}/callback"
        await open_browser(url_for(redirect_uri))
        code, state = await asyncio.wait_for(result, timeout)
        return code, state, redirect_uri
    except TimeoutError:
        raise LoginError("no answer from the browser in time: run `clearance login` again") from None
    finally:
        await runner.cleanup()


async def authorization_code_flow(
    session: aiohttp.ClientSession,
    request: LoginRequest,
    endpoints: Endpoints,
    open_browser: Callable[[str], Awaitable[None]],
    *,
    port: int = 0,
    timeout: float = 300.0,
) -> Mapping[str, Any]:
    """Authorization code + PKCE on a loopback redirect. Returns the token response."""
    if endpoints.authorization is None:
        raise LoginError("the provider has neither a device nor an authorization endpoint")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(24)

    def url_for(redirect_uri: str) -> str:
        params = _base_params(request) | {
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        assert endpoints.authorization is not None
        return f"{endpoints.authorization}?{urlencode(params)}"

    code, returned_state, redirect_uri = await _receive_code(port, open_browser, url_for, timeout)
    if not secrets.compare_digest(returned_state, state):
        raise LoginError("the answer's state does not match this login (a forged redirect?): retry")
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "client_id": request.client_id,
        "code_verifier": verifier,
    }
    if request.resource:
        form["resource"] = request.resource
    status, tokens = await _post_form(session, endpoints.token, form)
    if status != 200:
        raise LoginError(f"the provider refused the authorization code: {_oauth_error(tokens)}")
    return tokens


async def refresh(
    session: aiohttp.ClientSession, login: StoredLogin, *, clock: Callable[[], float] = time.time
) -> StoredLogin:
    """A new token from the refresh token (the refresh token is replaced when the provider rotates it)."""
    if login.refresh_token is None:
        raise LoginError("the token has expired and there is no refresh token: run `clearance login`")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": login.refresh_token,
        "client_id": login.client_id,
    }
    if login.resource:
        form["resource"] = login.resource
    status, tokens = await _post_form(session, login.token_endpoint, form)
    if status != 200:
        raise LoginError(f"the refresh was refused ({_oauth_error(tokens)}): run `clearance login`")
    request = LoginRequest(
        issuer=login.issuer,
        client_id=login.client_id,
        scope=login.scope,
        resource=login.resource,
        extra_params=login.extra_params,
        use_id_token=login.use_id_token,
    )
    endpoints = Endpoints(token=login.token_endpoint, authorization=None, device_authorization=None)
    renewed = stored_login(request, endpoints, tokens, now=clock())
    if renewed.refresh_token is None:
        renewed.refresh_token = login.refresh_token
    return renewed


async def current_token(
    session: aiohttp.ClientSession, login: StoredLogin, *, clock: Callable[[], float] = time.time
) -> tuple[str, StoredLogin | None]:
    """The bearer token to use now, and the renewed login to save when a refresh was needed."""
    bearer = login.bearer
    if bearer is not None and login.expires_at - clock() > REFRESH_MARGIN:
        return bearer, None
    renewed = await refresh(session, login, clock=clock)
    assert renewed.bearer is not None  # stored_login refuses a response without it
    return renewed.bearer, renewed
