"""Run llama-server on a loopback port, serving the provisioned model under a stable name.

Use it as an async context manager; the server is stopped (terminated, then killed after a grace
period) on exit, whatever happens inside::

    paths = await asyncio.to_thread(provision)
    async with LocalModelServer.start(paths) as server:
        ...  # OpenAI-compatible API at server.base_url, model name server.model

It runs with one thread and with embeddings enabled (mean pooling), so chat, completions, streaming
and embeddings all work. llama-server has no authentication, so it only ever listens on a loopback
address. Its output goes to a log file in the cache (``server.log_path``), never to our stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from clearance.exceptions import LocalModelError
from clearance.localmodel.logged_command import tail_of
from clearance.localmodel.provision import LocalModelPaths

_BIND_FAILURE = "couldn't bind"
_PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class ServerSettings:
    """How to run llama-server. ``port=None`` picks a free port."""

    host: str = "127.0.0.1"
    port: int | None = None
    context_size: int = 4096
    parallel: int = 2
    threads: int = 1
    ready_timeout: float = 120.0
    """Seconds to wait for ``/health`` to answer OK before giving up."""
    stop_grace: float = 10.0
    """Seconds between asking the server to stop (SIGTERM) and killing it."""

    @property
    def slot_context(self) -> int:
        """Tokens each parallel slot can hold: the longest prompt one request may send."""
        return self.context_size // self.parallel


def free_loopback_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def require_loopback(host: str) -> None:
    """Refuse any address but loopback: llama-server would serve anyone who can reach it."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise LocalModelError(
            f"the local model server only listens on a loopback address, not {host!r}; "
            "reach it through the gateway instead"
        )


def server_command(paths: LocalModelPaths, settings: ServerSettings, port: int) -> list[str]:
    return [
        str(paths.server_binary),
        "--model", str(paths.model_file),
        "--alias", paths.model_alias,
        "--host", settings.host,
        "--port", str(port),
        "--threads", str(settings.threads),
        "--ctx-size", str(settings.context_size),
        "--parallel", str(settings.parallel),
        # Embeddings are computed in one physical batch: make it as large as a slot's context, or any input
        # over llama-server's default 512 tokens fails although it fits.
        "--batch-size", str(settings.slot_context),
        "--ubatch-size", str(settings.slot_context),
        "--embeddings",
        "--pooling", "mean",
        "--no-webui",
    ]  # fmt: skip


class LocalModelServer:
    """A running llama-server. Create it with ``LocalModelServer.start``; do not construct it
    directly."""

    def __init__(
        self,
        *,
        process: asyncio.subprocess.Process,
        host: str,
        port: int,
        model: str,
        log_path: Path,
    ) -> None:
        self.process = process
        self.host = host
        self.port = port
        self.model = model
        """The model name to put in requests; ``/v1/models`` lists it."""
        self.log_path = log_path
        self.startup_seconds: float = 0.0
        """From spawning the process until ``/health`` answered OK."""

    @property
    def root_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible base URL, ending in ``/v1``."""
        return f"{self.root_url}/v1"

    @classmethod
    @contextlib.asynccontextmanager
    async def start(
        cls, paths: LocalModelPaths, settings: ServerSettings | None = None
    ) -> AsyncIterator[LocalModelServer]:
        """Start the server, wait until it is ready, yield it, and stop it on exit.

        Raises ``LocalModelError`` with the tail of the server's log if it exits or is not ready
        within ``settings.ready_timeout`` seconds.
        """
        settings = settings or ServerSettings()
        require_loopback(settings.host)
        server = await cls._start_on_some_port(paths, settings)
        try:
            yield server
        finally:
            await server.stop(settings.stop_grace)

    @classmethod
    async def _start_on_some_port(cls, paths: LocalModelPaths, settings: ServerSettings) -> LocalModelServer:
        # A port found free can be taken by someone else before the server binds it; then try
        # another.
        attempts = 1 if settings.port is not None else _PORT_ATTEMPTS
        for attempt in range(1, attempts + 1):
            port = settings.port if settings.port is not None else free_loopback_port(settings.host)
            server = await cls._spawn(paths, settings, port)
            try:
                await server._wait_ready(settings.ready_timeout)
            except LocalModelError:
                await server.stop(settings.stop_grace)
                if attempt < attempts and _BIND_FAILURE in tail_of(server.log_path):
                    continue
                raise
            except BaseException:
                await server.stop(settings.stop_grace)
                raise
            return server
        raise AssertionError("unreachable: the last attempt returns or raises")

    @classmethod
    async def _spawn(cls, paths: LocalModelPaths, settings: ServerSettings, port: int) -> LocalModelServer:
        paths.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = paths.log_dir / f"llama-server-{port}.log"
        with log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *server_command(paths, settings, port),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                # Its own session: a Ctrl-C in the terminal reaches us, and we stop it in order.
                start_new_session=True,
            )
        return cls(
            process=process,
            host=settings.host,
            port=port,
            model=paths.model_alias,
            log_path=log_path,
        )

    async def _wait_ready(self, within: float) -> None:
        started = time.monotonic()
        deadline = started + within
        probe = aiohttp.ClientTimeout(total=2.0)
        async with aiohttp.ClientSession(timeout=probe) as session:
            while True:
                if self.process.returncode is not None:
                    raise self._failure(f"exited with status {self.process.returncode}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.root_url}/health") as response:
                        if response.status == 200:
                            self.startup_seconds = time.monotonic() - started
                            return
                if time.monotonic() >= deadline:
                    raise self._failure(f"was not ready after {within:.0f}s")
                await asyncio.sleep(0.1)

    def _failure(self, what: str) -> LocalModelError:
        return LocalModelError(
            f"llama-server {what}. Last lines of {self.log_path}:\n{tail_of(self.log_path)}\n"
            "Fix the problem shown there; if the cached build looks broken, clear the cache "
            "(see `clearance local-model info`) and run again."
        )

    async def stop(self, grace: float = 10.0) -> None:
        """Ask the server to stop, and kill it if it has not stopped after ``grace`` seconds."""
        if self.process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.terminate()
        try:
            await asyncio.wait_for(self.process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            await self.process.wait()
