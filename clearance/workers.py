"""``clearance serve --workers N``: N gateway processes on one port, under a supervisor.

The supervisor does the start-up work that must happen once: it brings the database to the newest schema (every
store shares one migration history, ``clearance.db.migrate``; the workers then find it at head) and, with no
upstream configured, starts the bundled local model that every worker points at. Then it binds the listening
sockets itself, one per worker slot, each with ``SO_REUSEPORT`` on the same address: the kernel spreads new
connections over the slots evenly, port 0 resolves once (the first socket's port is every other's), and a slot's
socket outlives its worker, so connections that arrive while a dead worker is replaced wait in its backlog instead
of being refused. Each worker is a fresh interpreter (``worker_main``) that reads its configuration and socket
numbers from its stdin and serves them with ``clearance.server.run_gateway``.

A worker that dies is restarted after a backoff that doubles from ``BACKOFF_FIRST_S`` to ``BACKOFF_MAX_S`` (reset
once a worker has served ``STABLE_S``). Workers that die before they are ready, ``count`` times in a row with none
becoming ready meanwhile (a bad policy file, a missing secret), make the supervisor give up with their exit status
instead of looping. SIGTERM or SIGINT is forwarded to every worker (each drains itself) and the supervisor waits for
them; a second one is forwarded too (each worker stops at once), a third kills them. SIGHUP (reload the policy) is
forwarded. Workers run in their own process group (a terminal's Ctrl-C reaches the supervisor only, which forwards
it once) and die with the supervisor (``PR_SET_PDEATHSIG``).

Metrics: the supervisor gives the workers a private ``PROMETHEUS_MULTIPROC_DIR``, marks a dead worker's files
(``mark_process_dead``) and removes the directory at exit; ``GatewayMetrics`` renders the sum over the workers.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import pickle
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from prometheus_client.multiprocess import mark_process_dead

from clearance.config import GatewayConfig
from clearance.db import migrate
from clearance.db.engine import make_engine
from clearance.exceptions import ConfigError
from clearance.observability.logging import configure_logging
from clearance.observability.metrics import MULTIPROCESS_ENV
from clearance.server import event_loop_factory, run_gateway, with_upstream
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.workers")

BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0
STABLE_S = 10.0
"""A worker that served this long before it died is restarted after ``BACKOFF_FIRST_S`` again."""
BACKLOG = 128
_PR_SET_PDEATHSIG = 1
_WORKER_CODE = "from clearance.workers import worker_main; worker_main()"


def worker_count(value: int | Literal["auto"]) -> int:
    """``server.workers`` as a number: ``auto`` is the CPUs this process may run on."""
    if value != "auto":
        return value
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def check_shareable(config: GatewayConfig) -> None:
    """Workers share the database: an in-memory SQLite database would be a different one in each."""
    url = config.database.url
    if url.startswith("sqlite") and ("///" not in url or url.split("///", 1)[1].split("?", 1)[0] in ("", ":memory:")):
        raise ConfigError(
            "workers cannot share an in-memory SQLite database",
            [("database.url", "use a database file or PostgreSQL with more than one worker, or run one worker")],
        )


def bind_sockets(host: str, port: int, slots: int) -> list[list[socket.socket]]:
    """``slots`` sets of listening sockets on ``host``:``port``, one per address ``host`` resolves to, all with
    ``SO_REUSEPORT``; port 0 becomes the first socket's port for all of them."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    addresses = list(dict.fromkeys((family, address[0]) for family, _, _, _, address in infos))
    bound: list[list[socket.socket]] = []
    try:
        for _ in range(slots):
            group: list[socket.socket] = []
            bound.append(group)
            for family, address in addresses:
                sock = socket.socket(family, socket.SOCK_STREAM)
                group.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind((address, port))
                port = port or int(sock.getsockname()[1])
                sock.listen(BACKLOG)
    except OSError:
        for sock in (s for group in bound for s in group):
            sock.close()
        raise
    return bound


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """What a worker reads from its stdin: its configuration, its listening sockets' descriptors, where to say it
    is ready, and its supervisor's pid (it exits if that is not its parent any more)."""

    config: GatewayConfig
    fds: tuple[int, ...]
    ready_fd: int
    parent: int
    uvloop: bool
    """Run on uvloop: the supervisor could import it (a launcher that hides it from the supervisor hides it from
    the workers too)."""


def die_with_parent(parent: int) -> None:
    """Linux: SIGTERM this process when its parent dies, so a killed supervisor leaves no worker serving."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the supervisor died before the call above
        os._exit(1)


async def _serve_worker(spec: WorkerSpec) -> None:
    sockets = [socket.socket(fileno=fd) for fd in spec.fds]
    ready = asyncio.Event()
    tasks = TaskSet()

    async def tell_ready() -> None:
        await ready.wait()
        os.write(spec.ready_fd, b"1")
        os.close(spec.ready_fd)

    _ = tasks.spawn(tell_ready(), name="worker-ready")
    try:
        await run_gateway(spec.config, ready=ready, sockets=sockets)
    finally:
        await tasks.cancel_all()


def worker_main() -> None:
    """A worker process: serve the configuration and sockets its supervisor sends on stdin. Exit status 2 for an
    invalid configuration (as ``clearance serve``), 1 for any other failure to start."""
    spec: WorkerSpec = pickle.load(sys.stdin.buffer)  # noqa: S301 (its own supervisor's pipe, nobody else's)
    die_with_parent(spec.parent)
    os.set_inheritable(spec.ready_fd, False)
    configure_logging(spec.config.logging.level)
    try:
        with asyncio.Runner(loop_factory=event_loop_factory() if spec.uvloop else None) as runner:
            runner.run(_serve_worker(spec))
    except ConfigError as exc:
        print(exc.message, file=sys.stderr)
        for path, message in exc.errors:
            print(f"  {path}: {message}", file=sys.stderr)
        sys.exit(2)


def _describe_exit(code: int) -> str:
    return f"signal {signal.Signals(-code).name}" if code < 0 else f"status {code}"


@dataclass(slots=True)
class _Slot:
    index: int
    sockets: list[socket.socket]
    process: asyncio.subprocess.Process | None = None
    deaths: int = 0
    """Deaths in a row of workers that served less than ``STABLE_S``: the next backoff's exponent."""
    codes: list[int] = field(default_factory=list)


class Supervisor:
    """Runs ``count`` workers of ``config`` on ``sockets`` (``bind_sockets``) until stopped; ``run`` returns the
    exit status: 0 after a clean stop, a worker's status when workers could not start, 1 otherwise."""

    def __init__(self, config: GatewayConfig, sockets: Sequence[list[socket.socket]], metrics_dir: str) -> None:
        self._config = config
        self._slots = [_Slot(i, group) for i, group in enumerate(sockets)]
        self._metrics_dir = metrics_dir
        self._stopping = asyncio.Event()
        self._signals = 0
        self._start_failures = 0
        self._gave_up: int | None = None
        self._killed = False
        self._tasks = TaskSet()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop, sig)
        loop.add_signal_handler(signal.SIGHUP, self._forward, signal.SIGHUP)
        try:
            for slot in self._slots:
                _ = self._tasks.spawn(self._keep(slot), name=f"worker-{slot.index}")
            await self._tasks.join()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            self._close_sockets()
        if self._gave_up is not None:
            return self._gave_up
        clean = not self._killed and all(slot.codes[-1:] in ([], [0]) for slot in self._slots)
        return 0 if clean else 1

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """The first call forwards ``sig`` to every worker (each drains) and stops restarting them; the second
        forwards it again (a worker then stops at once, still writing its queued audit records); a third kills
        them (SIGKILL: what they still hold in memory is lost)."""
        self._signals += 1
        if self._signals == 2:
            log.warning("second stop signal: the workers stop at once", extra={"signal": signal.Signals(sig).name})
            self._forward(sig)
            return
        if self._signals > 2:
            log.warning("third stop signal: killing the workers")
            self._killed = True
            self._forward(signal.SIGKILL)
            return
        log.info("stopping the workers", extra={"signal": signal.Signals(sig).name})
        self._stopping.set()
        self._forward(sig)
        self._close_sockets()  # once the workers close theirs too, new connections are refused, not queued

    def _forward(self, sig: int) -> None:
        for slot in self._slots:
            if slot.process is not None and slot.process.returncode is None:
                try:
                    slot.process.send_signal(sig)
                except ProcessLookupError:
                    continue

    def _close_sockets(self) -> None:
        for slot in self._slots:
            for sock in slot.sockets:
                sock.close()

    async def _keep(self, slot: _Slot) -> None:
        """Run ``slot``'s worker, and a new one after each death, until stopping."""
        while not self._stopping.is_set():
            started = time.monotonic()
            process, ready = await self._start(slot)
            code = await process.wait()
            slot.codes.append(code)
            mark_process_dead(process.pid, self._metrics_dir)  # type: ignore[no-untyped-call]
            if self._stopping.is_set():
                log.info("worker exited", extra={"worker": slot.index, "pid": process.pid, "exit": code})
                return
            if not ready:
                self._start_failures += 1
                if self._start_failures >= len(self._slots):
                    self._give_up(code)
                    return
            served = time.monotonic() - started
            slot.deaths = 0 if served >= STABLE_S else slot.deaths + 1
            delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(slot.deaths - 1, 0))
            log.error(
                "worker died; restarting it",
                extra={
                    "worker": slot.index,
                    "pid": process.pid,
                    "exit": _describe_exit(code),
                    "ready": ready,
                    "restart_in_s": delay,
                },
            )
            try:
                await asyncio.wait_for(self._stopping.wait(), delay)
            except TimeoutError:
                continue

    async def _start(self, slot: _Slot) -> tuple[asyncio.subprocess.Process, bool]:
        """Start ``slot``'s worker; it, and whether it said it was ready before it exited (if it did)."""
        read_end, write_end = os.pipe()
        told = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        pipe = os.fdopen(read_end, "rb", buffering=0)
        listening, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(told), pipe)
        fds = tuple(sock.fileno() for sock in slot.sockets)
        try:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                _WORKER_CODE,
                stdin=asyncio.subprocess.PIPE,
                pass_fds=(*fds, write_end),
                process_group=0,
                env={**os.environ, MULTIPROCESS_ENV: self._metrics_dir},
            )
        except BaseException:
            listening.close()
            raise
        finally:
            os.close(write_end)
        slot.process = process
        if self._stopping.is_set():  # stopped while it was starting: it never got the signal
            process.send_signal(signal.SIGTERM)
        spec = WorkerSpec(self._config, fds, write_end, os.getpid(), uvloop=event_loop_factory() is not None)
        try:
            assert process.stdin is not None
            process.stdin.write(pickle.dumps(spec))
            await process.stdin.drain()
            process.stdin.close()
        except (BrokenPipeError, ConnectionResetError):
            pass  # it died already: its exit status tells
        try:
            ready = await told.read(1) == b"1"  # b"": it exited first (its end of the pipe closed)
        finally:
            listening.close()
        if ready:
            self._start_failures = 0
            log.info("worker ready", extra={"worker": slot.index, "pid": process.pid})
        return process, ready

    def _give_up(self, code: int) -> None:
        log.error(
            "workers exit before they are ready; giving up (their log above says why)",
            extra={"exit": _describe_exit(code), "failures": self._start_failures},
        )
        self._gave_up = code if code > 0 else 1
        self._stopping.set()
        self._forward(signal.SIGTERM)


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


async def supervise(config: GatewayConfig, count: int) -> int:
    """Run ``count`` workers of ``config`` (see the module's docstring); the exit status for ``clearance serve``."""
    check_shareable(config)
    await asyncio.to_thread(_migrate, config.database.url)  # once, before any worker: N at once would race
    async with with_upstream(config) as served:
        sockets = bind_sockets(served.server.host, served.server.port, count)
        host, port = sockets[0][0].getsockname()[:2]
        host = f"[{host}]" if ":" in host else host
        metrics_dir = tempfile.mkdtemp(prefix="clearance-metrics-")
        try:
            log.info("listening", extra={"url": f"http://{host}:{port}", "workers": count, "pid": os.getpid()})
            return await Supervisor(served, sockets, metrics_dir).run()
        finally:
            shutil.rmtree(metrics_dir, ignore_errors=True)
