"""The client side: one pooled aiohttp session for every upstream, credentials injected, failures mapped.

The caller's own ``Authorization`` (and every other caller header) stays at the gateway: an upstream only ever
sees the headers built here. Redirects are never followed: a redirect could send the request (and the gateway's
upstream credential) to another origin, so a 3xx answer is a protocol error for the caller (``check_status``).
An answer's body is read as aiohttp decodes it (gzip and deflate, plus br/zstd where their libraries are
installed); a body in any other ``Content-Encoding`` would reach the gateway still encoded, unreadable to
inspection, and is refused (``body_is_decoded``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import orjson
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD

from clearance.config import UpstreamConfig
from clearance.exceptions import (
    UpstreamError,
    UpstreamProtocolError,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from clearance.observability.tracing import Tracer

Timing = Callable[[str, float, float | None], None]
"""Told of each upstream exchange: the upstream's name, seconds to the headers, seconds to the end (None: the
exchange did not end normally)."""


def _untimed(_upstream: str, _headers: float, _total: float | None) -> None:
    pass


DECODED_ENCODINGS = frozenset(
    {"gzip", "deflate"} | ({"br"} if HAS_BROTLI else set()) | ({"zstd"} if HAS_ZSTD else set())
)
"""What aiohttp decodes in an answer; the test below mirrors its own (``http_parser.HttpParser.parse_headers``)."""


def body_is_decoded(response: aiohttp.ClientResponse) -> bool:
    """Whether what ``response.read()`` returns is the answer itself, not still-encoded bytes."""
    values = response.headers.getall("Content-Encoding", [])
    if not values:
        return True
    if len(values) > 1:
        return False
    coding = values[0]
    return coding.isascii() and coding.lower() in DECODED_ENCODINGS | {"identity", ""}


def check_status(up: UpstreamConfig, response: aiohttp.ClientResponse) -> None:
    """Refuse an answer that is a redirect (never followed; its ``Location`` is not shown either)."""
    if 300 <= response.status < 400:
        raise UpstreamProtocolError(
            f"upstream {up.name!r} answered with a redirect (HTTP {response.status}), which the gateway does not "
            "follow; set its base_url to the address it redirects to"
        )


def _timeout(up: UpstreamConfig) -> aiohttp.ClientTimeout:
    t = up.timeouts
    return aiohttp.ClientTimeout(total=t.total, connect=t.connect, sock_read=t.idle)


def map_client_error(up: UpstreamConfig, exc: BaseException) -> UpstreamError:
    """Turn a transport failure into the error the caller gets. Never includes payload text."""
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return UpstreamTimeout(f"upstream {up.name!r} did not answer in time; try again or raise its timeouts")
    if isinstance(exc, aiohttp.ClientPayloadError):
        return UpstreamProtocolError(f"upstream {up.name!r} sent a broken response body")
    if isinstance(exc, aiohttp.ClientResponseError):
        return UpstreamProtocolError(f"upstream {up.name!r} sent an invalid HTTP response")
    return UpstreamUnreachable(f"upstream {up.name!r} is unreachable ({type(exc).__name__}); check that it is running")


class UpstreamClient:
    """Sends requests to upstreams. Build one per application; ``close()`` it at shutdown.

    ``tracer`` marks each request's wait for the upstream's headers as the ``upstream`` stage and sends the trace
    context with it (``traceparent``); ``on_timing`` is told how long each took (``GatewayMetrics.upstream_timing``).
    """

    def __init__(
        self, upstreams: tuple[UpstreamConfig, ...], *, tracer: Tracer | None = None, on_timing: Timing = _untimed
    ) -> None:
        self._upstreams = upstreams
        self._tracer = tracer or Tracer()
        self._on_timing = on_timing
        self._connector: aiohttp.TCPConnector | None = None
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._auth: dict[str, tuple[str, str]] = {}
        for up in upstreams:
            if up.credentials is not None:
                self._auth[up.name] = (up.credentials.header, up.credentials.header_value())

    async def start(self) -> None:
        # One connection pool for all; one session per upstream so its timeouts are set once, not per request.
        self._connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, keepalive_timeout=30)
        for up in self._upstreams:
            self._sessions[up.name] = aiohttp.ClientSession(
                connector=self._connector, connector_owner=False, timeout=_timeout(up)
            )

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
        if self._connector is not None:
            await self._connector.close()
            self._connector = None

    def session(self, up: UpstreamConfig) -> aiohttp.ClientSession:
        session = self._sessions.get(up.name)
        if session is None:
            raise RuntimeError("UpstreamClient.start() was not called")
        return session

    def _headers(self, up: UpstreamConfig, request_id: str, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"X-Request-ID": request_id, **extra}
        auth = self._auth.get(up.name)
        if auth is not None:
            headers[auth[0]] = auth[1]
        return headers

    @asynccontextmanager
    async def post(
        self, up: UpstreamConfig, url: str, body: bytes, request_id: str
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """POST ``body`` and yield the response once its headers arrived (``first_byte`` timeout).

        The response is closed (not returned to the pool) when the block exits early, so a caller that goes away
        mid-stream also ends the upstream's work.
        """
        headers = self._headers(up, request_id, {"Content-Type": "application/json"})
        started = time.perf_counter()
        with self._tracer.stage("upstream"):
            self._tracer.propagate(headers)
            try:
                async with asyncio.timeout(up.timeouts.first_byte):
                    response = await self.session(up).post(url, data=body, headers=headers, allow_redirects=False)
            except (TimeoutError, aiohttp.ClientError, OSError) as exc:
                raise map_client_error(up, exc) from None
        arrived = time.perf_counter() - started
        ended: float | None = None
        try:
            yield response
            ended = time.perf_counter() - started
        finally:
            response.close()
            self._on_timing(up.name, arrived, ended)

    async def get_json(self, up: UpstreamConfig, url: str, timeout: float = 5.0) -> Any:
        headers = self._headers(up, "clearance-internal", {})
        try:
            async with self.session(up).get(
                url, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
            ) as response:
                check_status(up, response)
                response.raise_for_status()
                if not body_is_decoded(response):
                    raise UpstreamProtocolError(f"upstream {up.name!r} answered in an encoding the gateway cannot read")
                return orjson.loads(await response.read())
        except (TimeoutError, aiohttp.ClientError, OSError, orjson.JSONDecodeError) as exc:
            raise map_client_error(up, exc) from None

    async def discover_models(self, up: UpstreamConfig) -> list[str]:
        if up.kind == "ollama":
            data = await self.get_json(up, up.root + "/api/tags")
            return [str(m["name"]) for m in data.get("models", [])]
        data = await self.get_json(up, up.root + "/models")
        return [str(m["id"]) for m in data.get("data", [])]

    async def reachable(self, up: UpstreamConfig) -> bool:
        try:
            await self.get_json(up, up.root + ("/api/tags" if up.kind == "ollama" else "/models"), 2.0)
        except UpstreamError:
            return False
        return True
