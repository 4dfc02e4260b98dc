"""Every console response carries the CSP and the other headers, the session cookie comes back re-issued, and a
console error is a page; none of it touches the API's responses."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer

from clearance.console.security import CONTENT_SECURITY_POLICY, HEADERS


async def test_when_a_page_is_served_then_it_carries_every_header_and_a_csp_without_unsafe_inline(
    loopback_gateway: TestServer,
) -> None:
    async with aiohttp.ClientSession() as session, session.get(loopback_gateway.make_url("/console/")) as response:
        assert response.status == 200
        for name, value in HEADERS.items():
            assert response.headers[name] == value
        assert response.headers["Cache-Control"] == "no-store"
        page = await response.text()
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY
    assert "<script>" not in page  # scripts come from files only
    assert " style=" not in page and " onclick=" not in page


async def test_when_a_static_file_is_served_then_it_has_the_headers_but_may_be_cached(
    loopback_gateway: TestServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        for name, kind in (("console.css", "text/css"), ("console.js", "javascript")):
            async with session.get(loopback_gateway.make_url(f"/console/static/{name}")) as response:
                assert response.status == 200
                assert kind in response.headers["Content-Type"]
                assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
                assert response.headers.get("Cache-Control") != "no-store"
                assert "Set-Cookie" not in response.headers


async def test_when_a_page_is_served_then_the_session_cookie_is_reissued_http_only_and_lax(
    loopback_gateway: TestServer,
) -> None:
    async with aiohttp.ClientSession() as session, session.get(loopback_gateway.make_url("/console/")) as response:
        cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("clearance_console=")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/console" in cookie
    assert "Secure" not in cookie  # loopback over plain http


async def test_when_the_api_answers_then_no_console_header_is_added(loopback_gateway: TestServer) -> None:
    async with aiohttp.ClientSession() as session, session.get(loopback_gateway.make_url("/healthz")) as response:
        assert response.status == 200
        assert "Content-Security-Policy" not in response.headers
        assert "Set-Cookie" not in response.headers


async def test_when_a_console_handler_refuses_then_the_error_is_a_page_with_its_status_and_code(
    loopback_gateway: TestServer,
) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(loopback_gateway.make_url("/console/signout"), data={"csrf": "forged"}) as response,
    ):
        assert response.status == 403
        assert response.headers["Content-Type"].startswith("text/html")
        page = await response.text()
    assert "csrf_failed" in page
    assert 'role="alert"' in page
