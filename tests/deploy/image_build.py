"""Build the repository's Containerfile with buildah on a Debian base made here, with no image registry.

No registry is reachable from the test machines, so the base image that ``BASE_IMAGE`` names is made locally:
``debootstrap --variant=minbase bookworm`` with what the builder stage needs (Debian's python3.11, its venv module
and headers, gcc), from the Debian mirror the host's apt already uses, cached as a tarball under
``~/.cache/clearance`` keyed by the package list. The Python packages come from a wheelhouse downloaded with the
host's own pip (and its configured index), also cached, and mounted into the build (the Containerfile's
``WHEELHOUSE`` argument). buildah runs as root on the ``vfs`` storage driver with ``chroot`` isolation, in a
storage root of its own that the caller deletes: nothing is left in the host's container storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path.home() / ".cache" / "clearance"
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "python3-dev", "gcc", "libc6-dev")
"""What the Containerfile's builder needs on a Debian base (the official Python image has all but gcc)."""
TOOLS = ("buildah", "debootstrap")
DEBOOTSTRAP_TIMEOUT = 1200.0
BUILD_TIMEOUT = 2400.0
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def require_tools() -> None:
    """Skip without buildah, debootstrap or root (``./scripts/setup`` installs the tools); in CI, fail instead."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    why = ""
    if missing:
        why = f"{', '.join(missing)} not installed (./scripts/setup installs them with apt)"
    elif os.geteuid() != 0:
        why = "building with buildah's vfs driver and debootstrap needs root"
    if why:
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def debian_mirror() -> str:
    """The URI of the host's apt source for Debian's main suite (deb822 ``.sources`` or a one-line list)."""
    apt = Path("/etc/apt")
    for path in sorted((apt / "sources.list.d").glob("*.sources")):
        for block in path.read_text().split("\n\n"):
            fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line and not line.startswith("#"))
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            if "deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split():
                return fields["URIs"].split()[0]
    for path in [apt / "sources.list", *sorted((apt / "sources.list.d").glob("*.list"))]:
        for line in path.read_text().splitlines() if path.exists() else []:
            words = [w for w in line.split() if not w.startswith("[")]
            if len(words) >= 3 and words[0] == "deb" and words[2] == SUITE:
                return words[1]
    raise RuntimeError(f"no apt source for Debian {SUITE} on this host: debootstrap needs a mirror")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def base_tarball() -> Path:
    """The minbase root filesystem as a tarball, made once per package list (about 2 minutes)."""
    tarball = CACHE / f"debian-{SUITE}-minbase-{_digest(SUITE, *BASE_PACKAGES)}.tar"
    if tarball.exists():
        return tarball
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="clearance-debootstrap-") as work:
        rootfs = Path(work) / "rootfs"
        include = f"--include={','.join(BASE_PACKAGES)}"
        subprocess.run(
            ["debootstrap", "--variant=minbase", include, SUITE, str(rootfs), debian_mirror()],
            check=True,
            capture_output=True,
            timeout=DEBOOTSTRAP_TIMEOUT,
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / leftover).glob("*"):
                if entry.is_file():
                    entry.unlink()
        partial = tarball.with_suffix(".partial")
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(partial), "."], check=True, timeout=600)
        partial.rename(tarball)
    return tarball


def base_python(tarball: Path) -> str:
    """The version of the Python the base carries (``3.11.2`` on bookworm), from its headers' ``patchlevel.h``."""
    with tarfile.open(tarball) as archive:
        for member in archive:
            if re.search(r"/include/python3\.\d+/patchlevel\.h$", member.name):
                header = archive.extractfile(member)
                assert header is not None
                found = re.search(r'#define PY_VERSION\s+"([0-9.]+)"', header.read().decode())
                if found:
                    return found.group(1)
    raise RuntimeError(f"no Python headers in {tarball}: BASE_PACKAGES must include python3-dev")


def wheelhouse(python: str) -> Path:
    """Wheels (or sources) of the project's build and runtime requirements for the base's ``python``, downloaded with
    the host's pip. The host's pip reads requirement markers for the host's Python; a dependency only an older patch
    release needs (redis wants ``async-timeout`` below 3.11.3, and bookworm has 3.11.2) is added for ``python``."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    requirements = sorted([*project["build-system"]["requires"], *project["project"]["dependencies"]])
    folder = CACHE / f"wheelhouse-{_digest(sys.version, python, *requirements)}"
    if folder.exists():
        return folder
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    wanted = requirements
    for _ in range(5):  # each round adds what the wheels just downloaded need on the base's Python: a few at most
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(partial), *wanted],
            check=True,
            capture_output=True,
            timeout=900,
        )
        wanted = _needed_on(python, partial)
        if not wanted:
            break
    else:
        raise RuntimeError(f"the wheelhouse for Python {python} still lacks {wanted}")
    partial.rename(folder)
    return folder


def _needed_on(python: str, folder: Path) -> list[str]:
    """Requirements of the wheels in ``folder`` whose markers hold on ``python`` but of which ``folder`` has nothing."""
    have = {parse_wheel_filename(w.name)[0] for w in folder.glob("*.whl")}
    have |= {parse_sdist_filename(s.name)[0] for s in folder.glob("*.tar.gz")}
    environment = {"python_full_version": python, "python_version": ".".join(python.split(".")[:2]), "extra": ""}
    needed: set[str] = set()
    for wheel in folder.glob("*.whl"):
        with zipfile.ZipFile(wheel) as archive:
            # the wheel's own (a wheel may vendor others' deeper down)
            [metadata] = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1]
            for line in archive.read(metadata).decode().splitlines():
                if not line.startswith("Requires-Dist:"):
                    continue
                requirement = Requirement(line.partition(":")[2].strip())
                marker = requirement.marker
                if marker is None or canonicalize_name(requirement.name) in have:
                    continue
                if marker.evaluate(environment):
                    needed.add(f"{requirement.name}{requirement.specifier}")
    return sorted(needed)


@dataclass
class Buildah:
    """buildah on a storage root of its own (``vfs``, ``chroot`` isolation), removed by ``close``."""

    storage: Path

    def command(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self.storage / "root"),
            "--runroot",
            str(self.storage / "runroot"),
            "--storage-driver",
            "vfs",
            *args,
        ]

    def __call__(self, *args: str, timeout: float = 300.0) -> str:
        done = subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"buildah {args[0]} failed ({done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
            )
        return done.stdout

    def import_rootfs(self, tarball: Path, name: str) -> str:
        """An image from a root filesystem tarball (``buildah from scratch`` and ``add``, which unpacks it)."""
        container = self("from", "scratch").strip()
        try:
            self("add", container, str(tarball), "/", timeout=600)
            self("config", "--env", f"PATH={PATH}", "--cmd", "/bin/sh", container)
            self("commit", "--quiet", container, name, timeout=600)
        finally:
            self("rm", container)
        return name

    def build(self, image: str, *, base: str, wheels: Path) -> None:
        self(
            "build",
            "--isolation",
            "chroot",
            "--format",
            "docker",
            "--layers=false",
            "--build-arg",
            f"BASE_IMAGE={base}",
            "--build-arg",
            "WHEELHOUSE=/wheelhouse",
            "--volume",
            f"{wheels}:/wheelhouse:ro",
            "--tag",
            image,
            "--file",
            str(ROOT / "Containerfile"),
            str(ROOT),
            timeout=BUILD_TIMEOUT,
        )

    def inspect(self, image: str) -> dict[str, Any]:
        config: dict[str, Any] = json.loads(self("inspect", "--type", "image", image))["Docker"]["config"]
        return config

    def close(self) -> None:
        """Remove every container and image this storage root holds, then the root itself."""
        subprocess.run(self.command("rm", "--all"), capture_output=True, timeout=300, check=False)
        subprocess.run(self.command("rmi", "--all", "--force"), capture_output=True, timeout=600, check=False)
        shutil.rmtree(self.storage, ignore_errors=True)
