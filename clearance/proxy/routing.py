"""Which upstream serves which model.

Models come from the configuration, or, for an upstream that lists none, from the upstream itself when the
gateway starts (``/models`` on an OpenAI upstream, ``/api/tags`` on Ollama). A request for an unknown model
triggers one rate-limited rediscovery before it is refused with 404.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from clearance.config import ModelRoute, UpstreamConfig
from clearance.exceptions import UnknownModel

log = logging.getLogger("clearance.routing")

Discover = Callable[[UpstreamConfig], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class Route:
    """A resolved model: the upstream to call and the name to call it by."""

    upstream: UpstreamConfig
    model: ModelRoute

    @property
    def public_name(self) -> str:
        return self.model.name


class ModelRouter:
    REDISCOVER_INTERVAL_S = 10.0

    def __init__(self, upstreams: tuple[UpstreamConfig, ...], discover: Discover) -> None:
        self._upstreams = upstreams
        self._discover = discover
        self._routes: dict[str, Route] = {}
        self._listed: list[Route] = []
        self._last_discovery = float("-inf")
        self._build({})

    def _build(self, discovered: dict[str, list[str]]) -> None:
        routes: dict[str, Route] = {}
        listed: list[Route] = []
        for up in self._upstreams:
            models = up.models or tuple(ModelRoute(name=n) for n in discovered.get(up.name, []))
            for model in models:
                route = Route(up, model)
                if model.name in routes:
                    log.warning(
                        "model served by two upstreams; the first wins",
                        extra={"model": model.name, "upstream": up.name},
                    )
                    continue
                listed.append(route)
                for alias in (model.name, *model.aliases):
                    routes.setdefault(alias, route)
        self._routes = routes
        self._listed = listed

    @property
    def needs_discovery(self) -> bool:
        return any(not up.models for up in self._upstreams)

    async def discover(self) -> None:
        """Ask every upstream that lists no models what it serves. An unreachable one is logged and skipped."""
        self._last_discovery = time.monotonic()
        found: dict[str, list[str]] = {}
        for up in self._upstreams:
            if up.models:
                continue
            try:
                found[up.name] = await self._discover(up)
            except Exception as exc:  # any failure: keep serving the others
                log.warning("model discovery failed", extra={"upstream": up.name, "error": type(exc).__name__})
        self._build(found)

    async def resolve(self, name: str) -> Route:
        route = self._routes.get(name)
        if route is not None:
            return route
        if self.needs_discovery and (time.monotonic() - self._last_discovery > self.REDISCOVER_INTERVAL_S):
            await self.discover()
            route = self._routes.get(name)
            if route is not None:
                return route
        known = ", ".join(sorted(r.public_name for r in self._listed)) or "none"
        # The name the caller asked for is not repeated: it is caller text, and could be anything.
        raise UnknownModel(
            f"the requested model does not exist on this gateway (available: {known}); GET /v1/models lists them",
            param="model",
        )

    def models(self) -> list[Route]:
        return list(self._listed)
