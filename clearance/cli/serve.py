"""``clearance serve``: run the gateway."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import typer

from clearance.config import GatewayConfig, ServerConfig, UpstreamConfig, load_config, parse_config
from clearance.exceptions import ConfigError, LocalModelError
from clearance.observability.logging import configure_logging
from clearance.server import serve as serve_gateway


def build_config(
    config_file: Path | None, upstream: str | None, kind: str, host: str | None, port: int | None
) -> GatewayConfig:
    config = load_config(config_file) if config_file else parse_config({})
    updates: dict[str, object] = {}
    if upstream:
        extra = UpstreamConfig.model_validate({"name": "default", "base_url": upstream, "kind": kind})
        updates["upstreams"] = (*[u for u in config.upstreams if u.name != "default"], extra)
    if host is not None or port is not None:
        server = config.server.model_dump()
        if host is not None:
            server["host"] = host
        if port is not None:
            server["port"] = port
        updates["server"] = ServerConfig.model_validate(server)
    return config.model_copy(update=updates) if updates else config


def event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when uvloop is installed, else None (asyncio's own loop).

    On the proxy benchmark (bench/proxy.py) uvloop takes about a quarter off the gateway's CPU per request.
    """
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def serve(
    upstream: str | None = typer.Option(
        None, help="Base URL of an OpenAI-compatible upstream, e.g. http://127.0.0.1:8000/v1."
    ),
    upstream_kind: str = typer.Option("openai", help="openai or ollama."),
    host: str | None = typer.Option(None, help="Address to listen on (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to listen on (default 8080)."),
    config: Path | None = typer.Option(None, "--config", "-c", help="YAML configuration file."),
) -> None:
    """Run the gateway in front of the configured upstreams, or of the bundled local model if there are none."""
    try:
        gateway_config = build_config(config, upstream, upstream_kind, host, port)
    except ConfigError as exc:
        typer.echo(exc.message, err=True)
        for path, message in exc.errors:
            typer.echo(f"  {path}: {message}", err=True)
        raise typer.Exit(2) from None
    configure_logging(gateway_config.logging.level)
    try:
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
