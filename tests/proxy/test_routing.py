"""Model routing: configured names and aliases, discovery, and rate-limited rediscovery for unknown models."""

from __future__ import annotations

import pytest

from clearance.config import UpstreamConfig
from clearance.exceptions import UnknownModel
from clearance.proxy.routing import ModelRouter


def upstream(name: str, models: list[object] | None = None) -> UpstreamConfig:
    return UpstreamConfig.model_validate({"name": name, "base_url": "http://127.0.0.1:9/v1", "models": models or []})


async def test_configured_names_and_aliases_resolve_to_the_upstream_name() -> None:
    async def never(_: UpstreamConfig) -> list[str]:
        raise AssertionError("nothing to discover")

    router = ModelRouter((upstream("a", [{"name": "m", "upstream_name": "org/m-8b", "aliases": ["gpt"]}]),), never)
    route = await router.resolve("gpt")
    assert (route.upstream.name, route.public_name, route.model.target) == ("a", "m", "org/m-8b")
    with pytest.raises(UnknownModel, match="available: m"):
        await router.resolve("nope")


async def test_unknown_model_triggers_one_rediscovery_then_waits() -> None:
    served = [["old"]]
    calls = 0

    async def discover(_: UpstreamConfig) -> list[str]:
        nonlocal calls
        calls += 1
        return served[-1]

    router = ModelRouter((upstream("a"),), discover)
    await router.discover()
    served.append(["old", "new"])
    router.REDISCOVER_INTERVAL_S = 0.0
    assert (await router.resolve("new")).public_name == "new"
    router.REDISCOVER_INTERVAL_S = 3600.0
    with pytest.raises(UnknownModel):
        await router.resolve("newer")
    assert calls == 2  # the second miss did not hammer the upstream


async def test_an_unreachable_upstream_does_not_hide_the_others() -> None:
    async def discover(up: UpstreamConfig) -> list[str]:
        if up.name == "down":
            raise OSError("refused")
        return ["x"]

    router = ModelRouter((upstream("down"), upstream("up")), discover)
    await router.discover()
    assert [r.public_name for r in router.models()] == ["x"]
