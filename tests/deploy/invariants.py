"""What the deployment files (Containerfile, deploy/kubernetes) are checked against: the app's own routes, where the
configuration file is mounted, and what a secret looks like."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

import clearance
from clearance.app import create_app
from clearance.entities import ENTITY_TYPES
from tests.conftest import gateway_config

CONFIG_PATH = "/etc/clearance/clearance.yaml"
"""Where the image reads its configuration, and where the Deployment mounts the ConfigMap's file."""
SECRET_NAME = re.compile(r"(?i)(key|token|secret|passw|credential|pepper|private)")
SECRET_TYPES = frozenset(e.name for e in ENTITY_TYPES if e.category == "secret")


def looks_secret(name: str, value: str) -> bool:
    """The gateway's own detectors find a credential in the value, read with its name as context."""
    return bool({f.type for f in clearance.scan(f"{name} token {value}")} & SECRET_TYPES)


def get_routes(tmp_path: Path) -> set[str]:
    """Every plain path with a GET route (the catch-all 404 route, which matches anything, left out)."""
    app = create_app(gateway_config(tmp_path, []))
    return {
        resource.canonical
        for resource in app.router.resources()
        if isinstance(resource, web.PlainResource) and any(route.method == "GET" for route in resource)
    }
