"""The benchmark's processes: CPU time of a whole process tree, servers on loopback ports, the load generator."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.processes import LoadGenerator, Server, free_port, tree_cpu_seconds

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass\ntime.sleep(30)"


def test_when_a_child_process_burns_cpu_then_the_tree_counts_it() -> None:
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys, time\nsubprocess.Popen([sys.executable, '-c', {BURN!r}])\ntime.sleep(30)",
        ]
    )
    try:
        deadline = time.monotonic() + 20
        while tree_cpu_seconds(parent.pid) < 0.3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tree_cpu_seconds(parent.pid) >= 0.3
    finally:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        for child in psutil.Process(parent.pid).children(recursive=True):
            child.kill()
        parent.kill()
        parent.wait()


@pytest.mark.parametrize("loop", ["uvloop", "asyncio"])
def test_when_the_upstream_double_runs_then_it_answers_the_load_generator_on_its_loop(
    loop: str, tmp_path: Path
) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "bench.upstream_double", "--port", str(port), "--events", "5", "--loop", loop]
    server = Server("upstream double", argv, port, tmp_path / "upstream.log").start()
    try:
        assert server.event_loop() == loop
        before = server.cpu_seconds()
        with LoadGenerator(loop) as loadgen:
            outcome = loadgen.run(
                url=server.url + "/v1/chat/completions", stream=True, concurrency=2, requests=200, seconds=10.0
            )
        assert outcome["completed"] == 200
        assert outcome["errors"] == 0
        assert server.cpu_seconds() > before
    finally:
        assert server.stop() is not None


def test_when_a_server_cannot_start_then_the_error_carries_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; sys.exit('no such upstream')"]
    with pytest.raises(RuntimeError, match="no such upstream"):
        Server("broken", argv, free_port(), tmp_path / "broken.log").start(timeout_s=10)


def test_when_a_server_runs_several_workers_then_they_share_its_port_and_stop_with_it(tmp_path: Path) -> None:
    port = free_port()
    argv = [sys.executable, "-m", "bench.upstream_double", "--port", str(port), "--workers", "3", "--loop", "asyncio"]
    server = Server("upstream double", argv, port, tmp_path / "upstream.log").start()
    try:
        import psutil  # type: ignore[import-untyped,unused-ignore]

        children = psutil.Process(server.pid).children()
        assert len(children) == 2  # forked before serving: three processes on one port
        with LoadGenerator("asyncio") as loadgen:
            outcome = loadgen.run(
                url=server.url + "/v1/chat/completions", stream=False, concurrency=6, requests=60, seconds=10.0
            )
        assert (outcome["completed"], outcome["errors"]) == (60, 0)
    finally:
        assert server.stop() is not None
    _, alive = psutil.wait_procs(children, timeout=10)
    assert alive == []  # each died with the process that forked it
