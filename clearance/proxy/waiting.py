"""Holding a caller's connection open while approvers decide (wait mode, ``X-Clearance-Wait``).

A streaming caller of an OpenAI endpoint (SSE) is sent nothing during the first ``keepalive_interval``, so a quick
decision still gets an ordinary status code (a 403 refusal, or the model's stream). After that the gateway commits
a 200 ``text/event-stream`` response and sends an SSE comment line (``: waiting for approval <id>``) every
interval, which proxies and load balancers count as traffic; SSE clients ignore comments. Once released, the
model's events follow in that same response (``ModelPipeline._relay_stream``); a refusal after the headers went
out ends the stream with one error event in the OpenAI error shape (``fail``).

An Ollama NDJSON stream has no comment syntax, and a whole (non-stream) answer has no way to send anything before
its status: those callers wait silently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import aiohttp
import orjson
from aiohttp import web

from clearance.exceptions import ClearanceError
from clearance.proxy.exchange import Exchange
from clearance.proxy.framing import sse_data
from clearance.tasks import TaskSet

T = TypeVar("T")

SSE_CONTENT_TYPE = "text/event-stream"


def comment(approval_id: str) -> bytes:
    """One SSE comment line: ignored by clients, seen as traffic by intermediaries."""
    return f": waiting for approval {approval_id}\n\n".encode()


def error_event(error: ClearanceError) -> bytes:
    """The SSE event that ends a stream with ``error`` (the OpenAI error shape, as a mid-stream failure)."""
    return sse_data(orjson.dumps({"error": {"message": error.message, "type": error.type, "code": error.code}}))


class _Refusal:
    """A refusal the wait ended with (the gateway stopping, say), carried out of its task as a value: an answer to
    the caller, not a failed background task to log."""

    def __init__(self, error: ClearanceError) -> None:
        self.error = error


async def _refusal_returned(waiting: Coroutine[Any, Any, T]) -> T | _Refusal:
    try:
        return await waiting
    except ClearanceError as error:
        return _Refusal(error)


class KeepAlive:
    """The response of one request that waits for a decision. ``response`` is None until headers went out."""

    def __init__(self, request: web.Request, exchange: Exchange, *, interval: float, comments: bool) -> None:
        """``comments``: whether the caller reads SSE (else it waits silently)."""
        self._request = request
        self._exchange = exchange
        self._interval = interval
        self._comments = comments
        self.response: web.StreamResponse | None = None
        self.sent = 0
        """Bytes of comments sent so far."""

    async def hold(self, waiting: Coroutine[Any, Any, T], approval_id: str) -> T:
        """What ``waiting`` returns; meanwhile, every ``interval``, an SSE comment to a streaming caller. A caller
        that goes away cancels ``waiting`` (its write fails, or aiohttp cancels the handler)."""
        if not self._comments:
            return await waiting
        tasks = TaskSet()
        task = tasks.spawn(_refusal_returned(waiting), name=f"approval-wait-{approval_id[:12]}")
        try:
            while True:  # bounded by ``waiting``, which ends by its own deadline
                done, _ = await asyncio.wait({task}, timeout=self._interval)
                if done:
                    outcome = task.result()
                    if isinstance(outcome, _Refusal):
                        raise outcome.error
                    return outcome
                await self._write(comment(approval_id))
        finally:
            if not task.done():
                task.cancel()

    async def _write(self, data: bytes) -> None:
        if self.response is None:
            response = web.StreamResponse(
                status=200,
                headers={"Content-Type": SSE_CONTENT_TYPE, "Cache-Control": "no-cache", **self._exchange.headers},
            )
            await response.prepare(self._request)
            self._exchange.started(200)
            self.response = response
        await self.response.write(data)
        self.sent += len(data)

    async def fail(self, error: ClearanceError) -> web.StreamResponse:
        """End the committed stream with ``error`` as its one error event; the record keeps the error's code."""
        assert self.response is not None
        self._exchange.fail(error)
        event = error_event(error)
        try:
            await self.response.write(event)
            await self.response.write_eof()
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            self._exchange.disconnected()
            return self.response
        self._exchange.sent(self.sent + len(event))
        return self.response
