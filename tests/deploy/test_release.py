"""A release as the README's checklist makes it: the version in one place, its changelog entry, the image tag the
Kubernetes Deployment runs, and the sdist and wheel from ``python -m build`` carrying every file of the package
(templates, static files, migrations, word lists).

The build here is pure Python (``CLEARANCE_PURE_PYTHON=1``): what it checks is what goes into the archives, which
the compiled build only adds extensions to (tests/deploy/test_container_image.py builds that one, in the image).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 600.0


def version() -> str:
    value: str = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    return value


def package_files() -> set[str]:
    """Every file of the package that git tracks, as a path inside the wheel."""
    listed = subprocess.run(
        ["git", "ls-files", "clearance"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    return set(listed)


def test_the_changelog_has_a_section_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert re.search(rf"^## {re.escape(version())} - ", changelog, re.MULTILINE), version()


def test_the_kubernetes_deployment_runs_the_image_of_this_version() -> None:
    deployment = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"].rpartition(":")[2] == version()


def test_the_sdist_and_the_wheel_carry_every_file_of_the_package(tmp_path: Path) -> None:
    env = {**os.environ, "CLEARANCE_PURE_PYTHON": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        env=env,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sdist = tmp_path / f"clearance-{version()}.tar.gz"
    wheel = tmp_path / f"clearance-{version()}-py3-none-any.whl"
    wanted = package_files()
    assert any(name.endswith(".html") for name in wanted) and any(name.endswith(".mako") for name in wanted)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(f"clearance-{version()}.dist-info/entry_points.txt").decode()
    assert sorted(wanted - names) == []
    assert "clearance = clearance.cli:main" in entry_points
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    # the wheel was built from the sdist (python -m build's default), so the sdist held what it needed; it also
    # holds what builds the compiled wheel
    assert {"pyproject.toml", "setup.py", "README.md"} <= in_sdist
    assert sorted(wanted - in_sdist) == []
