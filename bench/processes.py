"""The benchmark's processes: each server under test and the load generator run in a process of their own, so
the OS can say how much CPU each server's whole process tree spent (``psutil``), apart from everything else.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson
import psutil  # type: ignore[import-untyped,unused-ignore]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Every child process runs here, so ``python -m bench.…`` and ``-c`` find this checkout's ``bench`` and
``clearance`` first on their path."""


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fork_workers(count: int) -> None:
    """Make this process one of ``count`` that serve one port (each binds it with ``SO_REUSEPORT``): fork the
    others now, before any event loop or thread exists. They die with this one, so stopping it stops them all."""
    if count <= 1:
        return
    # Imported here: importing the clearance package costs a server about 60 MB of RSS, which the plain
    # pass-through must not carry into the per-core benchmark's memory figure (bench.percore).
    from clearance.workers import die_with_parent

    parent = os.getpid()
    for _ in range(count - 1):
        if os.fork() == 0:
            die_with_parent(parent)
            return


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and all its descendants (live ones, and reaped ones it waited for)."""
    root = psutil.Process(pid)
    total = 0.0
    for proc in (root, *root.children(recursive=True)):
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class Server:
    """A server process on a loopback port; ``start`` returns once the port accepts connections."""

    def __init__(self, name: str, argv: list[str], port: int, log_path: Path) -> None:
        self.name = name
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def start(self, timeout_s: float = 60.0) -> Server:
        return self.launch().wait_listening(timeout_s)

    def launch(self) -> Server:
        """Start the process and return at once (``wait_listening`` waits for its port): servers launched one
        after another then start side by side."""
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(self.argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=log)
        return self

    def wait_listening(self, timeout_s: float = 60.0) -> Server:
        if self._process is None:
            raise RuntimeError(f"{self.name} was not launched")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self._process.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within {timeout_s}s:\n{self.log_tail()}")

    def event_loop(self) -> str:
        """Which event loop the server runs on, from the libraries its processes have mapped: uvloop (in any of
        them: a supervisor on asyncio's loop runs workers on uvloop), asyncio or unknown."""
        try:
            children = [child.pid for child in psutil.Process(self.pid).children()]
            maps = [Path(f"/proc/{pid}/maps").read_text() for pid in (self.pid, *children)]
        except (OSError, psutil.Error):
            return "unknown"
        return "uvloop" if any("uvloop/loop." in m for m in maps) else "asyncio"

    def cpu_seconds(self) -> float:
        return tree_cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout_s: float = 15.0) -> int | None:
        """SIGTERM (the gateway then writes every queued audit record), SIGKILL if it lingers."""
        if self._process is None or self._process.poll() is not None:
            return None if self._process is None else self._process.returncode
        self._process.send_signal(signal.SIGTERM)
        try:
            return self._process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self._process.kill()
            return self._process.wait()


class LoadGenerator:
    """The ``bench.loadgen`` process, driven one JSON command at a time."""

    def __init__(self, loop: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.loadgen", "--loop", loop],
            cwd=REPO_ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )

    def run(self, **command: Any) -> dict[str, Any]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write(orjson.dumps(command) + b"\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the load generator exited ({self._process.poll()})")
        result: dict[str, Any] = orjson.loads(line)
        return result

    def close(self) -> None:
        """An empty line (closing stdin) ends the load generator."""
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.close()
        try:
            self._process.wait(10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process.stdout.close()

    def __enter__(self) -> LoadGenerator:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.close()


class GatewayProfile:
    """``py-spy record`` on one process while the block runs, when an output file is given; else nothing.

    Samples only while the process holds the GIL (``--gil``), so waiting in the event loop is not counted.
    """

    def __init__(self, output: Path | None, pid: int) -> None:
        self._output = output
        self._pid = pid
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> GatewayProfile:
        if self._output is None:
            return self
        py_spy = shutil.which("py-spy")
        if py_spy is None:
            raise RuntimeError("--py-spy needs the py-spy command on PATH (pip install py-spy, in any environment)")
        argv = [py_spy, "record", "--pid", str(self._pid), "--gil", "--nonblocking", "--rate", "250"]
        self._process = subprocess.Popen(
            [*argv, "--format", "raw", "--output", str(self._output)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1.0)  # py-spy attaches before the load starts
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                self._process.wait(30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
