"""Stopping without cutting a stream: the drain a SIGTERM or SIGINT starts (docs/scaling.md, "Draining").

It is built on aiohttp's own shutdown (``BaseRunner.cleanup``: stop the sites, close idle connections, run
``on_shutdown``, wait for the handlers in flight up to the runner's ``shutdown_timeout``, then ``on_cleanup``), with
what that lacks around it:

1. ``Drain.begin``, at the signal: ``/readyz`` answers 503 ``draining`` and every answer from then on carries
   ``Connection: close``, so a keep-alive client opens a new connection, which its load balancer sends to another
   instance. New connections are still accepted and served for ``grace`` seconds.
2. The sites stop: new connections are refused.
3. ``runner.cleanup``: idle connections close; ``on_shutdown`` ends the admin event streams and the approval waits
   (the application's hooks); the requests in flight run on.
4. ``deadline`` seconds after the signal, whatever is still running is cancelled (``Drain.cut``); each such request
   is marked (``was_cut``), so its record says ``drain_deadline`` rather than that its caller left. aiohttp's cleanup
   then ends, and the application's lifespan flushes the audit queue.

A second signal skips what is left of the grace and of the deadline: whatever runs is cut at once, and the audit
queue is still flushed. Each phase is logged with counts only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web

from clearance.config import DrainConfig
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.drain")

CUT_AT_DEADLINE = web.RequestKey("cut_at_deadline", bool)
"""Set on a request the drain cancelled at its deadline."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def was_cut(request: web.BaseRequest) -> bool:
    """Whether ``request`` was cancelled by the drain's deadline (rather than by its caller going away)."""
    return request.get(CUT_AT_DEADLINE) is True


class Drain:
    """One gateway's drain: whether it has begun, and the requests in flight (the ones it would cut).

    Built by the application factory; ``install`` adds its middleware (which tracks every request's task) and its
    response hook (``Connection: close`` while draining); ``run`` is the sequence ``clearance.server`` starts at
    the first signal."""

    def __init__(self, settings: DrainConfig, *, on_change: Callable[[bool], object] = lambda _draining: None) -> None:
        """``on_change``: told True when the drain begins (a metrics gauge)."""
        self.settings = settings
        self.draining = False
        self.cut_requests = 0
        """How many requests the deadline (or a second signal) cut."""
        self._on_change = on_change
        self._in_flight: dict[asyncio.Task[object], web.Request] = {}

    @property
    def in_flight(self) -> int:
        """Requests being handled now (streams included)."""
        return len(self._in_flight)

    def install(self, app: web.Application) -> None:
        """Track the app's requests (the outermost middleware) and close connections after each answer once
        draining. Call it before the app is frozen."""

        @web.middleware
        async def track(request: web.Request, handler: Handler) -> web.StreamResponse:
            task = asyncio.current_task()
            if task is None:  # pragma: no cover - aiohttp runs every handler in a task
                return await handler(request)
            self._in_flight[task] = request
            try:
                return await handler(request)
            finally:
                self._in_flight.pop(task, None)

        app.middlewares.insert(0, track)
        app.on_response_prepare.append(self._close_when_draining)

    async def _close_when_draining(self, _request: web.Request, response: web.StreamResponse) -> None:
        if self.draining:
            # the headers are computed before this hook runs (aiohttp 3.14), so the header is set here; force_close
            # makes aiohttp close the connection once the answer is sent
            response.force_close()
            response.headers[hdrs.CONNECTION] = "close"

    def begin(self) -> None:
        """Readiness fails from now on, and every answer closes its connection."""
        if not self.draining:
            self.draining = True
            self._on_change(True)

    def cut(self) -> int:
        """Cancel every request still in flight; each is marked ``CUT_AT_DEADLINE`` first. Returns how many."""
        cut = 0
        for task, request in list(self._in_flight.items()):
            if not task.done():
                request[CUT_AT_DEADLINE] = True
                task.cancel()
                cut += 1
        self.cut_requests += cut
        return cut

    async def run(self, runner: web.BaseRunner, again: asyncio.Event) -> None:
        """The drain, from the first signal to the end of ``runner.cleanup``; ``again`` is set by a second signal.

        ``runner`` should have a ``shutdown_timeout`` of at least ``deadline``, so that aiohttp waits for the
        handlers and this drain decides when they are cut."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.deadline
        self.begin()
        log.info(
            "draining: readiness fails, new connections still accepted",
            extra={"in_flight": self.in_flight, "grace_s": self.settings.grace, "deadline_s": self.settings.deadline},
        )
        await _until(again, self.settings.grace)
        for site in list(runner.sites):
            await site.stop()
        log.info("stopped listening: new connections are refused", extra={"in_flight": self.in_flight})
        tasks = TaskSet()
        cleanup = tasks.spawn(runner.cleanup(), name="drain-cleanup")
        stopping = tasks.spawn(again.wait(), name="drain-second-signal")
        try:
            left = max(0.0, deadline - loop.time())
            await asyncio.wait({cleanup, stopping}, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            if not cleanup.done():
                in_flight = self.in_flight
                cut = self.cut()
                counts = {"in_flight": in_flight, "cut": cut}
                if again.is_set():
                    log.warning("drain second signal: cutting what is still in flight", extra=counts)
                else:
                    log.warning("drain deadline: cutting what is still in flight", extra=counts)
            await cleanup
        finally:
            await tasks.cancel_all()
        log.info("drained", extra={"cut": self.cut_requests})


async def _until(event: asyncio.Event, seconds: float) -> None:
    """Wait ``seconds``, or less if ``event`` is set."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
