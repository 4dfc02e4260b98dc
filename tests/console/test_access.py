"""Who may use the console: a signed-in session (OIDC), loopback callers when nothing authenticates, and nobody
when the API authenticates but the console has no sign-in; and the CSRF check of every form."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer, make_mocked_request

from clearance.app import create_app
from clearance.console.access import CSRF_HEADER, MAX_FORM_BYTES, console_form, console_user, safe_next
from clearance.console.testing import console_session
from clearance.exceptions import AuthenticationError, PermissionDenied
from clearance.models import Identity
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import gateway_config
from tests.console.conftest import app_of


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/console/approvals/apr_1?x=1", "/console/approvals/apr_1?x=1"),
        ("/console", "/console"),
        (None, "/console/"),
        ("", "/console/"),
        ("//evil.example/console", "/console/"),
        ("https://evil.example/console", "/console/"),
        ("/v1/chat/completions", "/console/"),
        ("/console\\@evil.example", "/console/"),
    ],
)
def test_when_choosing_where_to_go_after_sign_in_then_only_console_paths_are_taken(
    asked: str | None, goes_to: str
) -> None:
    assert safe_next(asked) == goes_to


async def test_when_no_session_then_a_page_redirects_to_sign_in_and_anything_else_is_401(
    signed_gateway: TestServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as page:
            assert page.status == 302
            assert page.headers["Location"] == "/console/signin?next=%2Fconsole%2F"
        async with session.post(signed_gateway.make_url("/console/signout"), data={"csrf": "x"}) as post:
            assert post.status == 401
            assert "console_session_ended" in await post.text()


async def test_when_the_session_is_valid_then_the_user_has_the_policys_roles(signed_gateway: TestServer) -> None:
    app = app_of(signed_gateway)
    cookies, csrf = console_session(app, Identity("alice", groups=("security",), email="alice@example.com"))
    request = make_mocked_request(
        "GET", "/console/", headers={"Cookie": f"clearance_console={cookies['clearance_console']}"}, app=app
    )
    user = await console_user(request)
    assert user.identity.subject == "alice"
    assert user.roles == frozenset({"user", "approver"})
    assert user.csrf_token == csrf
    assert user.signed_in
    assert await console_user(request) is user  # worked out once per request


async def test_when_a_form_has_the_token_in_its_header_then_it_passes(signed_gateway: TestServer) -> None:
    app = app_of(signed_gateway)
    cookies, csrf = console_session(app, Identity("sam", groups=("engineering",)))
    cookie = f"clearance_console={cookies['clearance_console']}"
    good = make_mocked_request("POST", "/console/x", headers={"Cookie": cookie, CSRF_HEADER: csrf}, app=app)
    user, _ = await console_form(good)
    assert user.identity.subject == "sam"
    other_cookies, _other_csrf = console_session(app, Identity("sam", groups=("engineering",)))
    other = f"clearance_console={other_cookies['clearance_console']}"
    forged = make_mocked_request("POST", "/console/x", headers={"Cookie": other, CSRF_HEADER: csrf}, app=app)
    with pytest.raises(PermissionDenied) as refused:
        await console_form(forged)
    assert refused.value.code == "csrf_failed"


async def test_when_nothing_authenticates_then_loopback_callers_are_the_anonymous_caller(
    loopback_gateway: TestServer,
) -> None:
    app = app_of(loopback_gateway)
    local = make_mocked_request("GET", "/console/", app=app).clone(remote="127.0.0.1")
    user = await console_user(local)
    assert user.identity.kind == "anonymous"
    assert not user.signed_in
    remote = make_mocked_request("GET", "/console/", app=app).clone(remote="192.0.2.7")
    with pytest.raises(PermissionDenied) as refused:
        await console_user(remote)
    assert refused.value.code == "not_allowed_from_here"


async def test_when_the_api_authenticates_but_the_console_has_no_sign_in_then_it_serves_nobody(
    fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    config = gateway_config(
        tmp_path,
        [{"name": "fake", "base_url": fake_upstream.base_url, "models": ["m"]}],
        auth={"api_keys": {"enabled": True}},
    )
    server = TestServer(create_app(config), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session, session.get(server.make_url("/console/")) as response:
            assert response.status == 403
            assert "console_sign_in_not_configured" in await response.text()
    finally:
        await server.close()


async def test_when_the_cookie_names_no_session_then_it_is_refused_like_none(signed_gateway: TestServer) -> None:
    app = app_of(signed_gateway)
    request = make_mocked_request("POST", "/console/x", headers={"Cookie": "clearance_console=forged.value"}, app=app)
    with pytest.raises(AuthenticationError):
        await console_user(request)


async def test_when_a_form_is_larger_than_a_console_form_may_be_then_it_is_refused_before_it_is_read(
    signed_gateway: TestServer,
) -> None:
    # the attack: the API caps each body (16 KiB for a key, 512 KiB for a policy trial), but every console form was
    # read whole up to server.max_body_bytes (10 MiB), then scanned, parsed or kept in memory per request
    app = app_of(signed_gateway)
    cookies, csrf = console_session(app, Identity("alice", groups=("security",)))
    url = signed_gateway.make_url("/console/signout")
    async with aiohttp.ClientSession(cookies=cookies) as session:
        big = {"csrf": csrf, "reason": "x" * (MAX_FORM_BYTES + 1)}
        async with session.post(url, data=big, allow_redirects=False) as refused:
            assert refused.status == 413
        async with session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as still:
            assert still.status == 200  # nothing was done: the session was not signed out


async def test_when_a_form_comes_as_multipart_then_it_is_refused_before_it_is_read(
    signed_gateway: TestServer,
) -> None:
    # every console form is urlencoded; a multipart post would have its file fields spooled to disk before the
    # CSRF check
    app = app_of(signed_gateway)
    cookies, csrf = console_session(app, Identity("alice", groups=("security",)))
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("upload", b"\0" * 1024, filename="big.bin", content_type="application/octet-stream")
    async with aiohttp.ClientSession(cookies=cookies) as session:
        url = signed_gateway.make_url("/console/signout")
        async with session.post(url, data=form, allow_redirects=False) as refused:
            assert refused.status == 415
        async with session.get(signed_gateway.make_url("/console/"), allow_redirects=False) as still:
            assert still.status == 200


@pytest.mark.parametrize("asked", ["/console/\r\nSet-Cookie: a=b", "/console/\x00", "/console/\tx", "/console/\x7f"])
def test_when_where_to_go_holds_a_control_character_then_it_is_not_taken(asked: str) -> None:
    # a header injection attempt (and a 500 from the server refusing such a Location): never a redirect target
    assert safe_next(asked) == "/console/"


@pytest.mark.parametrize(
    "host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "10.0.0.1", "", "[::1]evil.example"]
)
async def test_when_a_loopback_caller_names_another_host_then_the_console_refuses_it(
    loopback_gateway: TestServer, host: str
) -> None:
    # DNS rebinding: a page from evil.example, its name then pointed at 127.0.0.1, reaches the loopback console
    # from the victim's browser as the same origin: it reads a page's CSRF token and posts forms. The peer is
    # loopback; only the Host header tells the attack apart.
    app = app_of(loopback_gateway)
    rebound = make_mocked_request("GET", "/console/", headers={"Host": host}, app=app).clone(remote="127.0.0.1")
    with pytest.raises(PermissionDenied) as refused:
        await console_user(rebound)
    assert refused.value.code == "not_allowed_from_here"


@pytest.mark.parametrize("host", ["127.0.0.1:8080", "localhost:8080", "localhost", "[::1]:8080", "127.0.0.2"])
async def test_when_a_loopback_caller_names_a_loopback_host_then_the_console_serves_it(
    loopback_gateway: TestServer, host: str
) -> None:
    app = app_of(loopback_gateway)
    local = make_mocked_request("GET", "/console/", headers={"Host": host}, app=app).clone(remote="127.0.0.1")
    assert (await console_user(local)).identity.kind == "anonymous"
