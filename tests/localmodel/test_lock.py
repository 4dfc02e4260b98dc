from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel import lock as lock_module
from clearance.localmodel.lock import CacheLock

# A real second process holds the lock, prints "held", and keeps it until its stdin closes.
HOLDER = """
import sys
from pathlib import Path
from clearance.localmodel.lock import CacheLock
with CacheLock(Path(sys.argv[1]), timeout=5):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "lock")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


class _Clock:
    """Stands in for the lock module's ``time``: sleeping moves it on at once, so the wait is counted, not timed."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1


def test_when_another_process_holds_it_then_waiter_times_out_naming_the_holder(
    tmp_path: Path, holder: subprocess.Popen[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = _Clock()
    monkeypatch.setattr(lock_module, "time", clock)
    messages: list[str] = []
    with (
        pytest.raises(LocalModelError, match=f"held by process {holder.pid}"),
        CacheLock(tmp_path / "lock", timeout=0.5, poll_interval=0.05, on_wait=messages.append),
    ):
        pytest.fail("acquired a lock another process holds")
    # It waited the whole timeout, polling every poll_interval (one more poll for rounding), then gave up.
    assert clock.now >= 0.5
    assert clock.sleeps in (10, 11)
    assert len(messages) == 1
    assert str(holder.pid) in messages[0]


def test_when_holder_releases_then_waiter_acquires(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.communicate(timeout=10)  # closes its stdin: it leaves its with-block and exits
    with CacheLock(tmp_path / "lock", timeout=10, poll_interval=0.05) as lock:
        assert lock.holder() == str(os.getpid())


def test_when_holder_is_killed_then_lock_is_free(tmp_path: Path, holder: subprocess.Popen[str]) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    with CacheLock(tmp_path / "lock", timeout=2, poll_interval=0.05):
        pass


def test_when_released_then_same_process_can_take_it_again(tmp_path: Path) -> None:
    lock = CacheLock(tmp_path / "sub" / "lock", timeout=1)
    with lock:
        pass
    with lock:
        assert (tmp_path / "sub" / "lock").is_file()


def test_when_held_in_this_process_then_a_second_open_cannot_take_it(tmp_path: Path) -> None:
    with (
        CacheLock(tmp_path / "lock", timeout=1),
        pytest.raises(LocalModelError),
        CacheLock(tmp_path / "lock", timeout=0.1, poll_interval=0.02),
    ):
        pytest.fail("two holders at once")
