"""Run a build step as a child process whose output goes to a log file, not to our stdout.

On failure the error carries the tail of that log and its path. If we are interrupted, the child's
whole process group (cmake, ninja and the compilers under it) is killed, so no compiler keeps
running behind us.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from clearance.exceptions import LocalModelError

NICENESS = 10


def niced(argv: Sequence[str]) -> list[str]:
    """``argv`` under ``nice`` when the system has it: a build must not starve the machine's other
    work."""
    nice = shutil.which("nice")
    return [nice, "-n", str(NICENESS), *argv] if nice else list(argv)


def tail_of(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a text file ('' when unreadable)."""
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 64 * 1024))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def run_logged(
    argv: Sequence[str],
    *,
    log: Path,
    what: str,
    hint: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    on_line: Callable[[str], None] | None = None,
) -> None:
    """Run ``argv`` to completion, appending its output to ``log``.

    Raises ``LocalModelError`` naming ``what`` failed, with the log's tail and ``hint`` (what to do
    next).
    """
    with log.open("a", encoding="utf-8") as out:
        out.write(f"\n$ {shlex.join(argv)}\n")
        out.flush()
        with subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=None if env is None else dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        ) as proc:
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    out.write(line)
                    if on_line is not None:
                        on_line(line)
                returncode = proc.wait()
            finally:
                if proc.poll() is None:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    if returncode != 0:
        raise LocalModelError(f"{what} failed (exit status {returncode}). Last lines of {log}:\n{tail_of(log)}\n{hint}")
