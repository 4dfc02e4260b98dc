from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel.cache_dir import CacheLayout
from clearance.localmodel.install import BuildContext, Component, ensure_installed, is_current
from clearance.localmodel.reporting import report_nothing
from clearance.localmodel.stamp import STAMP_FILE


class CountingBuild:
    """A real (tiny) build: writes the artefact and records each run in a file outside the cache."""

    def __init__(self, runs_file: Path, content: str = "v1", fail: bool = False) -> None:
        self.runs_file = runs_file
        self.content = content
        self.fail = fail

    def __call__(self, ctx: BuildContext) -> None:
        with self.runs_file.open("a") as fh:
            fh.write(f"{ctx.work}\n")
        (ctx.stage / "bin").mkdir()
        (ctx.stage / "bin" / "tool").write_text(self.content)
        if self.fail:
            raise LocalModelError("the build broke halfway")

    def runs(self) -> int:
        return len(self.runs_file.read_text().splitlines()) if self.runs_file.exists() else 0


def component(build: CountingBuild, version: str = "1.0") -> Component:
    return Component(name="tool", stamp={"version": version}, artefact="bin/tool", build=build)


def install(layout: CacheLayout, comp: Component) -> Path:
    return ensure_installed(layout, comp, report=report_nothing, lock_timeout=5)


@pytest.fixture
def layout(tmp_path: Path) -> CacheLayout:
    return CacheLayout(tmp_path / "cache")


def test_when_installed_twice_then_built_once(layout: CacheLayout, tmp_path: Path) -> None:
    build = CountingBuild(tmp_path / "runs")
    first = install(layout, component(build))
    second = install(layout, component(build))
    assert first == second == layout.component_dir("tool") / "bin" / "tool"
    assert first.read_text() == "v1"
    assert build.runs() == 1
    assert is_current(layout, component(build))


def test_when_version_bumped_then_rebuilt_and_old_content_replaced(layout: CacheLayout, tmp_path: Path) -> None:
    install(layout, component(CountingBuild(tmp_path / "runs-1", "old")))
    newer = CountingBuild(tmp_path / "runs-2", "new")
    assert not is_current(layout, component(newer, version="2.0"))
    path = install(layout, component(newer, version="2.0"))
    assert path.read_text() == "new"
    assert newer.runs() == 1
    assert list(layout.work_root.iterdir()) == []


def test_when_build_fails_then_nothing_installed_and_no_work_left(layout: CacheLayout, tmp_path: Path) -> None:
    with pytest.raises(LocalModelError, match="broke halfway"):
        install(layout, component(CountingBuild(tmp_path / "runs", fail=True)))
    assert not layout.component_dir("tool").exists()
    assert list(layout.work_root.iterdir()) == []
    # And the next attempt builds normally.
    assert install(layout, component(CountingBuild(tmp_path / "runs"))).read_text() == "v1"


def test_when_rebuild_fails_then_previous_install_is_kept(layout: CacheLayout, tmp_path: Path) -> None:
    install(layout, component(CountingBuild(tmp_path / "runs", "old")))
    with pytest.raises(LocalModelError):
        install(layout, component(CountingBuild(tmp_path / "runs", fail=True), version="2.0"))
    assert (layout.component_dir("tool") / "bin" / "tool").read_text() == "old"
    assert is_current(layout, component(CountingBuild(tmp_path / "runs"), version="1.0"))


def test_when_build_produces_no_artefact_then_error_and_nothing_installed(
    layout: CacheLayout,
) -> None:
    empty = Component(name="tool", stamp={"v": 1}, artefact="bin/tool", build=lambda ctx: None)
    with pytest.raises(LocalModelError, match="did not produce bin/tool"):
        install(layout, empty)
    assert not layout.component_dir("tool").exists()


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param("remove_stamp", id="when_stamp_missing_then_rebuilt"),
        pytest.param("remove_artefact", id="when_artefact_missing_then_rebuilt"),
    ],
)
def test_when_installed_folder_is_incomplete_then_rebuilt(layout: CacheLayout, tmp_path: Path, damage: str) -> None:
    build = CountingBuild(tmp_path / "runs")
    path = install(layout, component(build))
    if damage == "remove_stamp":
        (layout.component_dir("tool") / STAMP_FILE).unlink()
    else:
        path.unlink()
    assert install(layout, component(build)).read_text() == "v1"
    assert build.runs() == 2


def test_when_an_interrupted_build_left_work_then_it_is_cleared(layout: CacheLayout, tmp_path: Path) -> None:
    layout.create()
    abandoned = layout.work_root / "tool-abandoned" / "stage"
    abandoned.mkdir(parents=True)
    (abandoned / "half-written.o").write_text("x")
    install(layout, component(CountingBuild(tmp_path / "runs")))
    assert list(layout.work_root.iterdir()) == []


# Each of several processes asks for the same component at once; the build takes a while.
CONCURRENT = """
import sys, time
from pathlib import Path
from clearance.localmodel.cache_dir import CacheLayout
from clearance.localmodel.install import Component, ensure_installed

def build(ctx):
    with open(sys.argv[2], "a") as fh:
        fh.write("built\\n")
    time.sleep(0.5)
    (ctx.stage / "artefact").write_text("done")

comp = Component(name="slow", stamp={"v": 1}, artefact="artefact", build=build)
print(ensure_installed(CacheLayout(Path(sys.argv[1])), comp, report=print, lock_timeout=30))
"""


def test_when_processes_provision_at_once_then_one_builds_and_all_get_it(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(tmp_path / "cache"), str(runs)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(3)
    ]
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0]
    assert runs.read_text().splitlines() == ["built"]
    installed = {out.strip().splitlines()[-1] for out in outputs}
    assert installed == {str(tmp_path / "cache" / "slow" / "artefact")}
