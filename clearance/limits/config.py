"""The ``limits:`` section of the gateway file, and ``RateSpec``, the limits of one scope (also a policy
clearance's ``limits`` block: ``clearance.policy.schema``)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from clearance.secretref import SecretRef

Count = Annotated[int, Field(ge=1)]
"""A limit: a whole number of at least 1 (to refuse a caller or a model altogether, use the policy)."""
FailMode = Literal["closed", "open"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateSpec(_Strict):
    """The limits of one scope; a limit not given is not enforced."""

    requests_per_minute: Count | None = None
    """Requests accepted in any sliding 60-second window."""
    tokens_per_minute: Count | None = None
    """Tokens (the upstream's reported ``total_tokens``) spent in any sliding 60-second window. Charged after each
    answer; a caller who has spent them is refused until the window frees enough."""
    concurrent_streams: Count | None = None
    """Streamed answers running at once, across every instance."""

    @property
    def empty(self) -> bool:
        return self.requests_per_minute is None and self.tokens_per_minute is None and self.concurrent_streams is None


class LimitsConfig(_Strict):
    """Rate limits, counted in Redis so that every instance shares them (docs/limits.md). Identities with no limit
    never reach Redis."""

    redis_url: str | SecretRef | None = None
    """Where the limits are counted, e.g. ``redis://127.0.0.1:6379/0``; with a password in it, name an environment
    variable or a file instead (``{env: CLEARANCE_REDIS_URL}``). None: no Redis, so a caller with a limit is
    refused (503) under ``on_redis_down: closed``, served uncounted under ``open``."""
    key_prefix: Annotated[str, Field(min_length=1, max_length=64)] = "clearance:limits:"
    """Prepended to every key the gateway writes in Redis; instances that share limits share the prefix."""
    on_redis_down: FailMode = "closed"
    """When Redis does not answer within ``timeout``: ``closed`` refuses a caller who has limits (503
    ``rate_limiter_unavailable``, retryable); ``open`` serves them uncounted, logged and counted in
    ``clearance_rate_limiter_unavailable``."""
    timeout: Annotated[float, Field(gt=0, le=10)] = 0.5
    """Seconds one Redis check may take, connecting included."""
    stream_lease: Annotated[float, Field(ge=3, le=3600)] = 30.0
    """Seconds a stream's slot is held without a refresh; a running stream refreshes it every third of this, so a
    slot held by an instance that died is free again within this many seconds."""
    defaults: RateSpec = RateSpec()
    """Limits of every identity, across models, where the policy's clearances set none."""
    models: dict[Annotated[str, Field(min_length=1)], RateSpec] = {}
    """Limits of every identity on one model (by the name its route gives it, not an alias), checked besides the
    identity's own."""

    @property
    def configured(self) -> bool:
        """Whether the file sets any limit (the policy may set more)."""
        return not self.defaults.empty or any(not spec.empty for spec in self.models.values())

    def url(self) -> str | None:
        """The Redis URL, read now (a ``SecretRef`` is resolved: ``ConfigError`` names where, never the value)."""
        if isinstance(self.redis_url, SecretRef):
            return self.redis_url.resolve()
        return self.redis_url
