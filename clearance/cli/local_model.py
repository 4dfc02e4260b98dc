"""``clearance local-model setup|run|info``: provision, run and inspect the bundled local model.

Status and progress go to stderr; what a script may want to read (paths, the base URL) goes to
stdout.
"""

from __future__ import annotations

import asyncio
import signal

import typer

from clearance.exceptions import LocalModelError
from clearance.localmodel.cache_dir import CacheLayout, resolve_cache_root
from clearance.localmodel.install import is_current
from clearance.localmodel.provision import LocalModelPaths, components, provision
from clearance.localmodel.server import LocalModelServer, ServerSettings
from clearance.localmodel.spec import LLAMA_CPP_SOURCE, MODEL_ALIAS, SMOLLM2_WHEEL
from clearance.localmodel.stamp import read_stamp
from clearance.tasks import TaskSet

local_model_app = typer.Typer(
    help="The bundled local model (llama-server + SmolLM2-135M-Instruct), used when no upstream is configured.",
    no_args_is_help=True,
)

JOBS = typer.Option(2, "--jobs", min=1, help="Parallel compile jobs for the one-time build.")


def _provision_or_exit(jobs: int) -> LocalModelPaths:
    try:
        return provision(jobs=jobs)
    except LocalModelError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


@local_model_app.command("setup")
def setup(jobs: int = JOBS) -> None:
    """Build llama-server and fetch the model into the cache (~10 minutes, once); print paths."""
    paths = _provision_or_exit(jobs)
    typer.echo(f"server: {paths.server_binary}")
    typer.echo(f"model:  {paths.model_file}")
    typer.echo(f"logs:   {paths.log_dir}")


@local_model_app.command("run")
def run(
    port: int | None = typer.Option(None, min=1, max=65535, help="Port (default: a free one)."),
    context_size: int = typer.Option(4096, min=256, help="Context size in tokens."),
    jobs: int = JOBS,
) -> None:
    """Provision if needed, run the model server on 127.0.0.1 until Ctrl-C, print its URL."""
    paths = _provision_or_exit(jobs)
    settings = ServerSettings(port=port, context_size=context_size)
    try:
        code = asyncio.run(_serve(paths, settings))
    except LocalModelError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


async def _serve(paths: LocalModelPaths, settings: ServerSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with LocalModelServer.start(paths, settings) as server:
        typer.echo(f"base URL: {server.base_url}")
        typer.echo(f"model:    {server.model}")
        typer.echo(
            f"ready in {server.startup_seconds:.1f}s; log: {server.log_path}; Ctrl-C to stop",
            err=True,
        )
        tasks = TaskSet()
        waiters = {
            tasks.spawn(stop.wait(), name="wait-for-signal"),
            tasks.spawn(server.process.wait(), name="wait-for-llama-server"),
        }
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        await tasks.cancel_all()
        if not stop.is_set():
            typer.echo(f"error: llama-server exited unexpectedly; see {server.log_path}", err=True)
            return 1
    return 0


def _component_status(layout: CacheLayout) -> list[tuple[str, str]]:
    rows = []
    for component in components():
        folder = layout.component_dir(component.name)
        if is_current(layout, component):
            status = f"ready ({folder})"
        elif (found := read_stamp(folder)) is not None:
            status = f"stale, built from {found.get('version')}; rebuilt on next setup or run"
        else:
            status = "not provisioned; `clearance local-model setup` builds it"
        rows.append((component.name, status))
    return rows


@local_model_app.command("info")
def info() -> None:
    """Show the cache folder, the pinned versions and what is already provisioned (builds
    nothing)."""
    layout = CacheLayout(resolve_cache_root())
    typer.echo(f"cache:   {layout.root}  (remove this folder to start over)")
    typer.echo(f"sources: {LLAMA_CPP_SOURCE} (llama.cpp), {SMOLLM2_WHEEL} (model, Apache-2.0)")
    typer.echo(f"model:   served as {MODEL_ALIAS}")
    for name, status in _component_status(layout):
        typer.echo(f"{name + ':':<14}{status}")
    typer.echo(f"logs:    {layout.log_dir}")


def register(app: typer.Typer) -> None:
    app.add_typer(local_model_app, name="local-model")
