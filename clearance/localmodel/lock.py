"""A cross-process lock on the cache, so that two processes (a test run and a gateway) never build
at once.

It is an advisory ``fcntl.flock`` on a file: the kernel drops it when the holder exits, however it
exits, so a crashed build never leaves the cache locked.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from clearance.exceptions import LocalModelError


class CacheLock:
    """An exclusive lock held between ``__enter__`` and ``__exit__``.

    Waits at most ``timeout`` seconds for another holder, calling ``on_wait`` once with a message
    that names the holder's process id, then raises ``LocalModelError``.
    """

    def __init__(
        self,
        path: Path,
        *,
        timeout: float,
        poll_interval: float = 0.25,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.on_wait = on_wait
        self._fd: int | None = None

    def __enter__(self) -> CacheLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            self._wait_for(fd)
        except BaseException:
            os.close(fd)
            raise
        # Say who holds it, for the message a waiting process prints.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def _wait_for(self, fd: int) -> None:
        deadline = time.monotonic() + self.timeout
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                pass
            if not told and self.on_wait is not None:
                self.on_wait(
                    f"waiting for process {self.holder() or '?'}, which holds {self.path} "
                    "(it is provisioning the local model)"
                )
                told = True
            if time.monotonic() >= deadline:
                raise LocalModelError(
                    f"gave up after {self.timeout:.0f}s waiting for the local-model cache lock "
                    f"{self.path}, held by process {self.holder() or '?'}; "
                    "let it finish, or stop it and run again"
                )
            time.sleep(self.poll_interval)

    def holder(self) -> str:
        """The process id written by the current holder, or '' when unknown."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
