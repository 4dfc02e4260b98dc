"""``PolicyHolder``: the policy currently in force, swapped whole on reload.

The holder loads the file at start (an invalid file stops the start with every error listed), then reloads it when
it changes (its modification time, size or inode, polled by an owned task) or when ``reload()`` is called (the
server calls it on SIGHUP). A new version is read, validated and compiled completely before one assignment swaps
it in, so a request sees either the old policy or the new one, never a mix. An invalid new version is rejected and
logged with its errors; the last good one keeps serving. Every version is compiled with the levels the detection
configuration declares (``declared``): a version whose scale lacks one of them is invalid.

The holder keeps when the version in force was loaded (``loaded``) and tells its listeners (``listen``) of each new
version it swaps in; it does no I/O for them (the app's listener keeps the history of versions in the database).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from clearance.config import PolicySettings
from clearance.exceptions import ConfigError
from clearance.levels import NO_DECLARED_LEVELS, DeclaredLevels
from clearance.models import Decision, DecisionInput
from clearance.policy.compiled import Policy, compile_policy
from clearance.policy.defaults import default_policy
from clearance.policy.evaluate import evaluate
from clearance.policy.load import read_policy_file
from clearance.tasks import TaskSet

log = logging.getLogger("clearance.policy")

BUILT_IN: Final = "(built-in default)"
"""The source of the built-in default policy, where a file's path would be."""

Signature = tuple[int, int, int] | None
"""What tells a changed file: (mtime in ns, size, inode); None when it cannot be read."""


@dataclass(frozen=True, slots=True)
class LoadedVersion:
    """A version of the policy as the holder swapped it in: the policy, where it was read from, and when."""

    policy: Policy
    source: str
    """The file's path, or ``BUILT_IN``."""
    loaded_at: float
    """Seconds since the epoch."""


Listener = Callable[[LoadedVersion], None]
"""Told of each new version, in the thread that swapped it in (the event loop's on SIGHUP, a worker's when the
watcher reloads): it must not block."""


def _signature(path: Path) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class PolicyHolder:
    """Serves ``decide`` and ``classify`` from the current policy. Without a file, the built-in default policy."""

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        poll_interval: float = 2.0,
        declared: DeclaredLevels = NO_DECLARED_LEVELS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._clock = clock
        self.poll_interval = poll_interval
        self.declared = declared
        """The levels the detection configuration declares, added to every version of the policy."""
        self._lock = threading.Lock()
        self._tasks = TaskSet()
        self._listeners: list[Listener] = []
        self.last_error: ConfigError | None = None
        """Why the latest reload was rejected (None after a good one)."""
        if self.path is None:
            self._signature: Signature = None
            self._policy = default_policy(declared)
        else:
            self._signature = _signature(self.path)
            file, text = read_policy_file(self.path)
            self._policy = compile_policy(file, text, declared)
        self._loaded = LoadedVersion(self._policy, self._source, clock())
        self._log_loaded("policy loaded")

    @classmethod
    def from_settings(cls, settings: PolicySettings, declared: DeclaredLevels = NO_DECLARED_LEVELS) -> PolicyHolder:
        return cls(settings.file, poll_interval=settings.reload_interval, declared=declared)

    @property
    def policy(self) -> Policy:
        return self._policy

    @property
    def loaded(self) -> LoadedVersion:
        """The version in force, with where and when it was loaded."""
        return self._loaded

    @property
    def _source(self) -> str:
        return str(self.path) if self.path is not None else BUILT_IN

    def listen(self, listener: Listener) -> None:
        """Tell ``listener`` of every version swapped in from now on (the one in force is ``loaded``)."""
        self._listeners.append(listener)

    def decide(self, facts: DecisionInput) -> Decision:
        return evaluate(self._policy, facts)

    def classify(self, counts: Mapping[str, int]) -> str:
        return self._policy.classify(counts)

    def _log_loaded(self, what: str) -> None:
        policy = self._policy
        log.info(
            what,
            extra={
                "path": self._source,
                "digest": policy.digest[:12],
                "rules": len(policy.rules),
                "clearances": len(policy.source.clearances),
            },
        )

    def reload(self) -> bool:
        """Read the file again and swap it in if valid. True when a new version now serves. Never raises."""
        if self.path is None:
            return False
        with self._lock:
            signature = _signature(self.path)  # taken first: a write during the read triggers another reload
            self._signature = signature
            try:
                file, text = read_policy_file(self.path)
                policy = compile_policy(file, text, self.declared)
            except Exception as exc:  # whatever went wrong, the last good version keeps serving
                if not isinstance(exc, ConfigError):
                    exc = ConfigError(f"{self.path}: could not be loaded ({type(exc).__name__})")
                self.last_error = exc
                log.error(
                    "policy rejected; the last good version keeps serving",
                    extra={"path": str(self.path), "error": exc.message, "errors": exc.errors},
                )
                return False
            self.last_error = None
            if policy.digest == self._policy.digest:
                return False
            loaded = LoadedVersion(policy, self._source, self._clock())
            self._loaded = loaded
            self._policy = policy
        self._log_loaded("policy reloaded")
        for listener in self._listeners:
            try:
                listener(loaded)
            except Exception as exc:  # a listener's failure must not look like a rejected version
                log.error("policy listener failed", extra={"error": type(exc).__name__})
        return True

    def changed(self) -> bool:
        return self.path is not None and _signature(self.path) != self._signature

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            if self.changed():
                await asyncio.to_thread(self.reload)

    def start(self) -> None:
        """Start watching the file (call from the running event loop, e.g. in the app's lifespan)."""
        if self.path is not None and not len(self._tasks):
            _ = self._tasks.spawn(self._watch(), name="policy-watch")

    async def close(self) -> None:
        await self._tasks.cancel_all()
