"""The Containerfile builds, and the image serves: ``/healthz``, its own HEALTHCHECK, and a masked chat request.

The image is built once for the module from the repository's Containerfile on a Debian bookworm base made here
(``tests/deploy/image_build.py``: debootstrap, buildah with ``vfs`` and ``chroot``), then run with ``buildah run``
as its configuration says (its user, its command, its environment) with a configuration file mounted at
``/etc/clearance/clearance.yaml``, the upstream's credential in an environment variable and a data directory as
its volume, in front of the upstream double on the host's loopback. Slow on first run (the base, the wheels and
the compiled build: minutes); the base and the wheels are cached under ``~/.cache/clearance``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from clearance.testing.fake_upstream import FakeUpstream
from tests.deploy.image_build import Buildah, base_python, base_tarball, require_tools, wheelhouse

UID = 10001
CARD = "4111 1111 1111 1111"
RAW = (CARD, CARD.replace(" ", ""))
TOKEN = "upstream-credential-" + uuid.uuid4().hex
START_TIMEOUT = 120.0


@dataclass
class BuiltImage:
    buildah: Buildah
    name: str
    config: dict[str, Any]


@pytest.fixture(scope="module")
def image() -> Iterator[BuiltImage]:
    require_tools()
    buildah = Buildah(Path(tempfile.mkdtemp(prefix="clearance-buildah-")))
    try:
        tag = uuid.uuid4().hex[:12]
        tarball = base_tarball()
        base = buildah.import_rootfs(tarball, f"localhost/clearance-test-base:{tag}")
        name = f"localhost/clearance-test:{tag}"
        buildah.build(name, base=base, wheels=wheelhouse(base_python(tarball)))
        yield BuiltImage(buildah, name, buildah.inspect(name))
    finally:
        buildah.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def on_port(argv: list[str], port: int) -> list[str]:
    """The image's own command (or probe) with its port, 8080, moved to ``port``: ``buildah run`` shares the host's
    network, where 8080 may be taken."""
    assert [arg for arg in argv if "8080" in arg] != [], argv
    return [arg.replace("8080", str(port)) for arg in argv]


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    async with asyncio.timeout(START_TIMEOUT), aiohttp.ClientSession() as session:
        while process.returncode is None:
            try:
                async with session.get(url + "/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.5)
    raise AssertionError(f"the gateway exited ({process.returncode}) before answering /healthz")


def test_the_image_runs_as_a_fixed_non_root_user_with_its_healthcheck(image: BuiltImage) -> None:
    config = image.config
    assert config["User"] == f"{UID}:{UID}"
    assert config["WorkingDir"] == "/var/lib/clearance"
    assert config["Entrypoint"] == ["clearance"]
    assert config["Cmd"][:3] == ["serve", "--config", "/etc/clearance/clearance.yaml"]
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert any("/healthz" in part for part in config["Healthcheck"]["Test"])
    env = dict(entry.split("=", 1) for entry in config["Env"])
    assert env["HOME"].startswith("/var/lib/clearance")


async def test_the_image_serves_health_and_a_masked_chat_request(image: BuiltImage, tmp_path: Path) -> None:
    buildah, config = image.buildah, image.config
    port = free_port()
    etc, data = tmp_path / "etc", tmp_path / "data"
    etc.mkdir()
    data.mkdir()
    os.chown(data, UID, UID)
    marker = tmp_path / "started"
    async with FakeUpstream() as upstream:
        gateway_file = {
            "upstreams": [
                {
                    "name": "double",
                    "base_url": upstream.base_url,
                    "models": ["fake-model"],
                    "credentials": {"env": "UPSTREAM_API_KEY"},
                }
            ]
        }
        (etc / "clearance.yaml").write_text(yaml.safe_dump(gateway_file))
        container = buildah("from", image.name).strip()
        marker.touch()
        command = buildah.command(
            "run",
            "--isolation",
            "chroot",
            "--network",
            "host",
            "--env",
            f"UPSTREAM_API_KEY={TOKEN}",
            "--volume",
            f"{etc}:/etc/clearance:ro",
            "--volume",
            f"{data}:/var/lib/clearance",
            "--mount",
            "type=tmpfs,destination=/tmp",
            container,
            "--",
            *on_port([*config["Entrypoint"], *config["Cmd"]], port),
        )
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(url, process)
            healthcheck = on_port(config["Healthcheck"]["Test"][1:], port)
            probe = await asyncio.create_subprocess_exec(
                *buildah.command("run", "--isolation", "chroot", "--network", "host", container, "--", *healthcheck)
            )
            assert await asyncio.wait_for(probe.wait(), 120) == 0

            body = {"model": "fake-model", "messages": [{"role": "user", "content": f"charge card {CARD} please"}]}
            async with (
                aiohttp.ClientSession() as session,
                session.post(url + "/v1/chat/completions", json=body) as response,
            ):
                assert response.status == 200, await response.text()
                answer = await response.json()
            assert answer["choices"][0]["message"]["content"]
        finally:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                output, _ = await asyncio.wait_for(process.communicate(), 60)
            except TimeoutError:
                os.killpg(process.pid, signal.SIGKILL)
                output, _ = await process.communicate()
    log = output.decode(errors="replace")
    # the request reached the upstream masked, with the credential read from the environment
    chats = [r for r in upstream.received if r.path.endswith("/chat/completions")]
    assert len(chats) == 1, log
    assert chats[0].headers.get("Authorization") == f"Bearer {TOKEN}"
    sent = upstream.all_text_received()
    assert "charge card" in sent
    assert not any(raw in sent for raw in RAW)
    # the audit trail lives in the data volume, and keeps no raw value
    files = [p for p in data.rglob("*") if p.is_file()]
    recorded = b"".join(p.read_bytes() for p in files)
    assert recorded, f"no audit database in the data volume: {log[-3000:]}"
    assert {p.stat().st_uid for p in files} == {UID}  # the gateway ran as the image's user
    assert not any(raw.encode() in recorded for raw in RAW)
    assert TOKEN not in log
    # no file was written in the image's own filesystem, so it runs on a read-only root (directories are left out:
    # buildah makes and removes its mount points, such as /run's, in them)
    root = Path(buildah("mount", container).strip())
    try:
        written = sorted(
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime > marker.stat().st_mtime
        )
        # the runtime stage holds the compiled engine and none of the builder's sources or wheels
        assert list((root / "opt" / "clearance").glob("lib/python3*/site-packages/clearance__mypyc*.so"))
        assert not (root / "src").exists() and not (root / "wheels").exists()
    finally:
        buildah("umount", container)
        buildah("rm", container)
    assert written == [], written
