"""``clearance serve``: run the gateway."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

from clearance.config import GatewayConfig, UpstreamConfig, load_config, parse_config
from clearance.exceptions import ConfigError, LocalModelError
from clearance.observability.logging import configure_logging
from clearance.server import event_loop_factory
from clearance.server import serve as serve_gateway
from clearance.workers import supervise, worker_count

__all__ = ["build_config", "event_loop_factory", "register", "serve"]


def build_config(
    config_file: Path | None,
    upstream: str | None,
    kind: str,
    host: str | None,
    port: int | None,
    workers: str | None = None,
) -> GatewayConfig:
    config = load_config(config_file) if config_file else parse_config({})
    updates: dict[str, object] = {}
    if upstream:
        extra = UpstreamConfig.model_validate({"name": "default", "base_url": upstream, "kind": kind})
        updates["upstreams"] = (*[u for u in config.upstreams if u.name != "default"], extra)
    if host is not None or port is not None or workers is not None:
        server = config.server.model_dump()
        if host is not None:
            server["host"] = host
        if port is not None:
            server["port"] = port
        if workers is not None:
            server["workers"] = workers if workers == "auto" else _workers_number(workers)
        updates["server"] = parse_config({"server": server}, source="command line").server
    return config.model_copy(update=updates) if updates else config


def _workers_number(text: str) -> int | str:
    """``--workers``: a number, or the text itself for the configuration's validation to name."""
    try:
        return int(text)
    except ValueError:
        return text


def serve(
    upstream: str | None = typer.Option(
        None, help="Base URL of an OpenAI-compatible upstream, e.g. http://127.0.0.1:8000/v1."
    ),
    upstream_kind: str = typer.Option("openai", help="openai or ollama."),
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to listen on (default 8080)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML configuration file."),
    workers: str | None = typer.Option(
        None, help="Worker processes on the one port: a number, or auto (one per CPU). Default: server.workers, 1."
    ),
) -> None:
    """Run the gateway in front of the configured upstreams, or of the bundled local model if there are none."""
    try:
        gateway_config = build_config(config, upstream, upstream_kind, host, port, workers)
    except ConfigError as exc:
        typer.echo(exc.message, err=True)
        for path, message in exc.errors:
            typer.echo(f"  {path}: {message}", err=True)
        raise typer.Exit(2) from None
    configure_logging(gateway_config.logging.level)
    count = worker_count(gateway_config.server.workers)
    try:
        if count > 1:  # the supervisor only starts and watches processes: asyncio's own loop does
            with asyncio.Runner() as runner:
                status = runner.run(supervise(gateway_config, count))
            if status != 0:
                typer.echo(f"clearance serve: the workers stopped with status {status}", err=True)
            raise typer.Exit(status)
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            runner.run(serve_gateway(gateway_config))
    except LocalModelError as exc:
        typer.echo(f"the bundled local model could not start: {exc}", err=True)
        raise typer.Exit(1) from None
    except ConfigError as exc:  # raised while building the app (an invalid policy file, a missing secret)
        typer.echo(exc.message, err=True)
        for path, message in exc.errors:
            typer.echo(f"  {path}: {message}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
