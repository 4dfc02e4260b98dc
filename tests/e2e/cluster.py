"""Several real ``clearance serve`` processes on one PostgreSQL database, Debian's HAProxy in front with
``deploy/haproxy/clearance.cfg`` (the example operators copy, addresses from the environment), and the upstream
double in a process of its own: all on loopback ports, for ``tests/e2e/test_cluster.py``.

The instances share one policy file and read it again only on SIGHUP (``policy.reload_interval`` is an hour here),
so a test decides when each one reloads.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench.processes import Server, free_port
from clearance.audit.note import generate_key
from clearance.auth.keys import ApiKeyStore
from tests.admin.gateway import PEOPLE, admin_policy

ROOT = Path(__file__).resolve().parents[2]
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy" / "clearance.cfg"
MODEL = "llama-internal"
"""What clients ask for (the example approval policy's model); the double is sent ``bench-model``."""
START_TIMEOUT_S = 60.0
CHECKPOINT_INTERVAL_S = 1.0
"""Each instance signs a checkpoint of the shared tree this often (when it grew): several during a test."""


def haproxy_binary() -> str | None:
    """Debian's haproxy (``scripts/setup`` installs it), or None."""
    return shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if os.access(p, os.X_OK)), None)


@dataclass
class Instance:
    """One gateway process: its instance id, address and process."""

    name: str
    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    def kill(self) -> None:
        """SIGKILL: no clean stop, nothing flushed."""
        os.kill(self.server.pid, signal.SIGKILL)

    def reload_policy(self) -> None:
        os.kill(self.server.pid, signal.SIGHUP)


@dataclass
class Cluster:
    instances: list[Instance]
    balancer: Server
    database_url: str
    policy_file: Path
    verifier_key: str
    """The verifier key of the checkpoints every instance signs (one signer key, shared)."""
    keys: dict[str, str] = field(default_factory=dict)
    """Person (``tests.admin.gateway.PEOPLE``) -> raw API key."""

    @property
    def url(self) -> str:
        """HAProxy's frontend."""
        return self.balancer.url

    def headers(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[person]}"}


def instance_config(
    name: str, port: int, upstream_port: int, database_url: str, policy: Path, signer: Path, spool: Path
) -> dict[str, Any]:
    return {
        "server": {"host": "127.0.0.1", "port": port, "instance_id": name},
        "upstreams": [
            {
                "name": "double",
                "base_url": f"http://127.0.0.1:{upstream_port}/v1",
                "models": [{"name": MODEL, "upstream_name": "bench-model"}],
            }
        ],
        "database": {"url": database_url},
        "policy": {"file": str(policy), "reload_interval": 3600},
        "auth": {"api_keys": {"enabled": True}},
        "audit": {
            "spool": {"directory": str(spool)},
            "integrity": {"signing_key": {"file": str(signer)}, "checkpoint_interval": CHECKPOINT_INTERVAL_S},
        },
        "logging": {"level": "warning"},
    }


def enrol(database_url: str) -> dict[str, str]:
    """One API key per person of ``PEOPLE``, straight into the shared key table."""
    store = ApiKeyStore(database_url)
    try:
        return {name: store.create(owner=name, groups=groups, expires_at=None)[1] for name, groups in PEOPLE.items()}
    finally:
        store.close()


@contextmanager
def running_cluster(
    workdir: Path, database_url: str, *, instances: int = 3, upstream_options: tuple[str, ...] = ()
) -> Iterator[Cluster]:
    """The upstream double, ``instances`` gateways (``gw1``…) and HAProxy, started in that order and stopped in
    reverse (SIGTERM, SIGKILL if one lingers; one killed already is only reaped)."""
    haproxy = haproxy_binary()
    assert haproxy is not None, "haproxy is not installed: run ./scripts/setup"
    policy = admin_policy(workdir)
    signer_key, verifier_key = generate_key("clearance-cluster-test")
    signer = workdir / "audit-signer.key"
    signer.write_text(signer_key)
    with ExitStack() as stack:
        upstream_port = free_port()
        upstream = Server(
            "upstream-double",
            [sys.executable, "-m", "bench.upstream_double", "--port", str(upstream_port), *upstream_options],
            upstream_port,
            workdir / "upstream-double.log",
        )
        stack.callback(upstream.stop)
        upstream.start(START_TIMEOUT_S)
        started: list[Instance] = []
        for number in range(1, instances + 1):
            name = f"gw{number}"
            port = free_port()
            home = workdir / name
            home.mkdir()
            path = home / "clearance.yaml"
            config = instance_config(name, port, upstream_port, database_url, policy, signer, home / "spool")
            path.write_text(yaml.safe_dump(config))
            server = Server(name, [sys.executable, "-m", "clearance", "serve", "-c", str(path)], port, home / "log")
            stack.callback(server.stop)
            started.append(Instance(name, server))
        # all at once, as a deployment starts them: the first start on a fresh database migrates it once
        for instance in started:
            instance.server.launch()
        for instance in started:
            instance.server.wait_listening(START_TIMEOUT_S)
        balancer_port = free_port()
        env = [f"CLEARANCE_LISTEN=127.0.0.1:{balancer_port}"]
        env += [f"CLEARANCE_GATEWAY_{i}=127.0.0.1:{s.server.port}" for i, s in enumerate(started, 1)]
        # its access log (stdout) goes to haproxy.log with its messages (stderr): ``exec`` keeps the process's id
        command = ["sh", "-c", 'exec "$@" 1>&2', "sh", "env", *env, haproxy, "-db", "-f", str(HAPROXY_CONFIG)]
        balancer = Server("haproxy", command, balancer_port, workdir / "haproxy.log")
        stack.callback(balancer.stop)
        balancer.start(START_TIMEOUT_S)
        yield Cluster(started, balancer, database_url, policy, verifier_key, enrol(database_url))


async def wait_for(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    done: Any,
    *,
    timeout_s: float = 10.0,
    every_s: float = 0.05,
) -> Any:
    """GET ``url`` until ``done(status, json)`` answers something truthy, which is returned; AssertionError after
    ``timeout_s`` with the last answer."""
    deadline = time.monotonic() + timeout_s
    last: tuple[int, Any] = (0, None)
    while time.monotonic() < deadline:
        async with session.get(url, headers=headers) as response:
            last = (response.status, await response.json(content_type=None))
        if result := done(*last):
            return result
        await asyncio.sleep(every_s)
    raise AssertionError(f"{url} never answered as expected within {timeout_s}s; last: {last}")
