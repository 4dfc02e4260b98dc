from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel.logged_command import niced, run_logged, tail_of


def test_when_command_succeeds_then_output_goes_to_log_and_lines_to_callback(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "build.log"
    seen: list[str] = []
    run_logged(
        [sys.executable, "-c", "print('one'); import sys; print('two', file=sys.stderr)"],
        log=log,
        what="printing",
        hint="n/a",
        on_line=seen.append,
    )
    assert "one\n" in seen
    assert "two\n" in seen
    text = log.read_text()
    assert "one" in text
    assert "two" in text
    out, err = capfd.readouterr()
    assert "one" not in out + err


def test_when_command_fails_then_error_has_status_tail_and_hint(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    script = "import sys\nfor i in range(50): print(f'line {i}')\nsys.exit(3)"
    with pytest.raises(LocalModelError) as caught:
        run_logged([sys.executable, "-c", script], log=log, what="compiling x", hint="install a compiler")
    message = caught.value.message
    assert message.startswith("compiling x failed (exit status 3)")
    assert "line 49" in message
    assert "line 5\n" not in message  # only the tail
    assert str(log) in message
    assert message.endswith("install a compiler")


def test_when_log_appended_then_earlier_steps_are_kept(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    for word in ("first", "second"):
        run_logged([sys.executable, "-c", f"print('{word}')"], log=log, what=word, hint="")
    assert log.read_text().index("first") < log.read_text().index("second")


def test_when_nice_exists_then_command_is_niced() -> None:
    argv = niced(["cmake", "--build", "."])
    if shutil.which("nice"):
        assert Path(argv[0]).name == "nice"
        assert argv[1:3] == ["-n", "10"]
    assert argv[-3:] == ["cmake", "--build", "."]


@pytest.mark.parametrize(
    ("content", "lines", "expected"),
    [
        pytest.param("a\nb\nc\n", 2, "b\nc", id="when_longer_then_last_lines"),
        pytest.param("a\n", 5, "a", id="when_shorter_then_all"),
        pytest.param(None, 5, "", id="when_missing_then_empty"),
    ],
)
def test_tail_of(tmp_path: Path, content: str | None, lines: int, expected: str) -> None:
    path = tmp_path / "log"
    if content is not None:
        path.write_text(content)
    assert tail_of(path, lines) == expected


class Interrupted(Exception):
    pass


def test_when_interrupted_then_the_whole_process_tree_is_killed(tmp_path: Path) -> None:
    # The child starts a grandchild (as cmake starts ninja and the compilers) and reports its pid.
    script = (
        "import subprocess, sys, time\n"
        "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(g.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    pids: list[int] = []

    def interrupt(line: str) -> None:
        pids.append(int(line))
        raise Interrupted

    with pytest.raises(Interrupted):
        run_logged([sys.executable, "-c", script], log=tmp_path / "log", what="x", hint="", on_line=interrupt)
    grandchild = pids[0]
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    # The grandchild was re-parented (to init or a subreaper), which reaps it: a zombie counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False
