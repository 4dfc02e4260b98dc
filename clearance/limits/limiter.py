"""``RateLimiter``: counts each request against the limits that apply to its caller and model, in Redis, and
answers the pipeline with an ``Admission`` (served) or a 429 (refused).

One Redis round trip admits a request (``scripts.ADMIT``: requests and tokens per minute, and a stream's lease, in
one atomic script); when the answer ends, ``Admission.settle`` charges the tokens the upstream reported and gives
the lease back (``scripts.SETTLE``), in an owned background task. While a stream runs, its lease is refreshed
(``scripts.REFRESH``). A caller with no limit never reaches Redis.

Redis that fails or does not answer in ``limits.timeout``: ``on_redis_down: closed`` refuses a caller with limits
(503 ``rate_limiter_unavailable``), ``open`` serves them uncounted. Either way it is logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

from clearance.exceptions import (
    ConfigError,
    RateLimited,
    RateLimiterUnavailable,
    StreamLimitExceeded,
    TokenLimitExceeded,
)
from clearance.limits import scripts
from clearance.limits.config import LimitsConfig, RateSpec
from clearance.limits.quotas import LimitName, Quota, Scope, quotas_for
from clearance.models import Identity, Usage
from clearance.tasks import TaskSet

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("clearance.limits")

WINDOW_MS: Final = 60_000
"""The window of the per-minute limits."""
UNAVAILABLE_RETRY_AFTER: Final = 1
"""Seconds a caller refused while Redis is down is told to wait."""
NO_HEADERS: Mapping[str, str] = MappingProxyType({})

PolicyLimits = Callable[[Identity], RateSpec | None]
"""The identity's limits from the policy in force (``Policy.limits_for``), or None."""
Clock = Callable[[], float]
OnRefused = Callable[[LimitName, Scope], None]
OnUnavailable = Callable[[str], None]
"""Told ``refused`` or ``served`` each time Redis failed a check (``settled`` when it failed after an answer)."""

_LIMITS: Final[dict[int, tuple[LimitName, type[RateLimited], str]]] = {
    scripts.REQUESTS: ("requests_per_minute", RateLimited, "requests per minute"),
    scripts.TOKENS: ("tokens_per_minute", TokenLimitExceeded, "tokens per minute"),
    scripts.STREAMS: ("concurrent_streams", StreamLimitExceeded, "streams at once"),
}


def _seconds(ms: int) -> int:
    """Whole seconds, rounded up (``Retry-After`` and the reset headers take no fractions here)."""
    return max(1, math.ceil(ms / 1000))


def _keys(quotas: Sequence[Quota]) -> list[str]:
    return [f"{q.key}:{suffix}" for q in quotas for suffix in ("req", "tok", "tok:sum", "streams")]


def rate_headers(quotas: Sequence[Quota], answer: Sequence[int]) -> dict[str, str]:
    """The ``x-ratelimit-*`` headers the OpenAI SDK reads, from an admission's answer: for requests and for tokens,
    the scope with the least room left."""
    headers: dict[str, str] = {}
    for offset, kind, name in ((0, "requests", "requests_per_minute"), (2, "tokens", "tokens_per_minute")):
        tightest: tuple[int, int, int] | None = None
        for i, quota in enumerate(quotas):
            limit = getattr(quota.spec, name)
            left, reset = answer[1 + 4 * i + offset], answer[2 + 4 * i + offset]
            if limit is None or left < 0:
                continue
            if tightest is None or left < tightest[1]:
                tightest = (limit, left, reset)
        if tightest is not None:
            headers[f"x-ratelimit-limit-{kind}"] = str(tightest[0])
            headers[f"x-ratelimit-remaining-{kind}"] = str(tightest[1])
            headers[f"x-ratelimit-reset-{kind}"] = f"{_seconds(tightest[2])}s"
    return headers


def refusal(quotas: Sequence[Quota], answer: Sequence[int]) -> RateLimited:
    """The 429 for a refused admission: which limit, where, and when to retry; headers to match."""
    index, which, retry_ms, limit = answer[1], answer[2], answer[3], answer[4]
    quota = quotas[index]
    name, error, label = _LIMITS[which]
    retry = _seconds(retry_ms)
    headers = {"Retry-After": str(retry)}
    if which != scripts.STREAMS:
        kind = "requests" if which == scripts.REQUESTS else "tokens"
        headers |= {
            f"x-ratelimit-limit-{kind}": str(limit),
            f"x-ratelimit-remaining-{kind}": "0",
            f"x-ratelimit-reset-{kind}": f"{retry}s",
        }
    return error(
        f"rate limit reached: {limit} {label} {quota.describe()}; retry in {retry} s",
        headers=headers,
        details={"limit": name, "scope": quota.scope},
    )


class Admission:
    """A request the limits let through. ``headers`` go on its answer; ``settle`` (once, when the answer ended)
    charges its tokens and gives its stream lease back. ``Admission()`` is a request no limit counts."""

    __slots__ = ("_leased", "_limiter", "_quotas", "events", "headers", "member", "refresh")

    def __init__(
        self,
        headers: Mapping[str, str] = NO_HEADERS,
        limiter: RateLimiter | None = None,
        quotas: tuple[Quota, ...] = (),
        member: str = "",
        leased: bool = False,
    ) -> None:
        self.headers = headers
        self._limiter = limiter
        self._quotas = quotas
        self.member = member
        """The id its entries carry in Redis (random: never the request id, which a caller may repeat)."""
        self._leased = leased
        self.refresh: asyncio.Task[None] | None = None
        """The task that keeps a stream's lease fresh while it runs."""
        self.events = 0
        """The events of a streamed answer that the upstream sent: what is charged, one token each, when it
        reported no usage (its caller left, or it failed, before the usage that comes last)."""

    @property
    def counts_tokens(self) -> bool:
        """Whether a limit charges this request's tokens: its answer must then report them."""
        return any(q.spec.tokens_per_minute is not None for q in self._quotas)

    def settle(self, usage: Usage) -> None:
        """The answer ended with ``usage`` (as the upstream reported it; none reported: ``events``). Never waits:
        Redis is told in the background (``RateLimiter.join`` waits for it)."""
        limiter, self._limiter = self._limiter, None
        if self.refresh is not None:
            self.refresh.cancel()
        if limiter is None:
            return
        tokens = usage.total_tokens
        if tokens is None:
            tokens = (usage.prompt_tokens or 0) + (usage.completion_tokens or 0)
        tokens = tokens or self.events
        counted = [q for q in self._quotas if q.spec.tokens_per_minute is not None]
        if self._leased or (tokens and counted):
            _ = limiter.settles.spawn(limiter.settle(self._quotas, self.member, tokens), name="limits-settle")


class RateLimiter:
    """The limits of every request, counted in Redis (module docstring). ``clock``: "now" for the scripts, in
    seconds (tests move it); None: Redis's own clock, which every instance shares."""

    def __init__(
        self,
        config: LimitsConfig,
        policy_limits: PolicyLimits = lambda _identity: None,
        *,
        clock: Clock | None = None,
        on_refused: OnRefused = lambda _limit, _scope: None,
        on_unavailable: OnUnavailable = lambda _outcome: None,
    ) -> None:
        self.config = config
        self.policy_limits = policy_limits
        self.clock = clock
        self.on_refused = on_refused
        self.on_unavailable = on_unavailable
        self.settles = TaskSet()
        """Answers being charged (``Admission.settle``)."""
        self.leases = TaskSet()
        """Running streams' lease refreshers."""
        self._redis: Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._failures: tuple[type[BaseException], ...] = (OSError, TimeoutError)
        """What a failed check raises: the Redis client's errors too, once there is one."""

    async def start(self) -> None:
        """Make the Redis client (it connects on first use). Raises ``ConfigError`` if a ``SecretRef`` URL cannot
        be read."""
        url = self.config.url()
        if url is None:
            return
        # imported only when limits are counted: the client is not needed otherwise, and it loads OpenTelemetry's
        # API when that is installed, which a gateway without `telemetry:` should not carry
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import RedisError

        self._failures = (RedisError, OSError, TimeoutError)
        timeout = self.config.timeout
        try:
            self._redis = Redis.from_url(
                url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
            )
        except ValueError:  # the URL's text may hold a password: never repeated
            raise ConfigError(
                "limits.redis_url is not a Redis URL (redis://host:port/db, rediss://, unix://)",
                [("limits.redis_url", "not a Redis URL")],
            ) from None
        self._scripts = {
            name: self._redis.register_script(lua)
            for name, lua in (("admit", scripts.ADMIT), ("refresh", scripts.REFRESH), ("settle", scripts.SETTLE))
        }

    async def close(self) -> None:
        await self.leases.cancel_all()
        await self.settles.join(timeout=self.config.timeout * 2)  # settles in flight get their chance
        await self.settles.cancel_all()
        if self._redis is not None:
            await self._redis.aclose()
            self._redis = None

    async def join(self) -> None:
        """Wait for the answers being charged now (``Admission.settle``)."""
        await self.settles.join()

    def quotas(self, identity: Identity, model: str) -> tuple[Quota, ...]:
        """The limits that apply to ``identity`` on ``model`` (``clearance.limits.quotas``)."""
        return quotas_for(self.config, self.policy_limits(identity), identity, model)

    def _now(self) -> str:
        return "" if self.clock is None else str(int(self.clock() * 1000))

    async def _run(self, name: str, keys: list[str], args: list[str | int]) -> Any:
        if self._redis is None:
            raise ConnectionError("no Redis configured (limits.redis_url)")
        async with asyncio.timeout(self.config.timeout):
            return await self._scripts[name](keys=keys, args=args)

    async def admit(
        self, identity: Identity, model: str, stream: bool, *, quotas: tuple[Quota, ...] | None = None
    ) -> Admission:
        """Count one request of ``identity`` for ``model`` (a stream takes a lease). Raises ``RateLimited`` (or a
        subclass) when a limit is spent, ``RateLimiterUnavailable`` when Redis fails and limits fail closed.
        ``quotas``: ``self.quotas(identity, model)`` when the caller has them already."""
        if quotas is None:
            quotas = self.quotas(identity, model)
        if not quotas:
            return Admission()
        member = uuid.uuid4().hex  # never the request id: a caller may send the same one twice
        lease_ms = int(self.config.stream_lease * 1000)
        args: list[str | int] = [self._now(), WINDOW_MS, member, lease_ms, int(stream)]
        for q in quotas:
            args += [q.spec.requests_per_minute or 0, q.spec.tokens_per_minute or 0, q.spec.concurrent_streams or 0]
        try:
            answer = [int(v) for v in await self._run("admit", _keys(quotas), args)]
        except self._failures as exc:
            return self._unavailable(exc)
        if answer[0] == 0:
            self.on_refused(_LIMITS[answer[2]][0], quotas[answer[1]].scope)
            raise refusal(quotas, answer)
        leased = stream and any(q.spec.concurrent_streams is not None for q in quotas)
        admission = Admission(rate_headers(quotas, answer), self, quotas, member, leased)
        if leased:
            admission.refresh = self.leases.spawn(self._keep_lease(quotas, member), name="limits-lease")
        return admission

    def _unavailable(self, exc: BaseException) -> Admission:
        open_ = self.config.on_redis_down == "open"
        log.warning(
            "rate limiter unavailable",
            extra={"error": type(exc).__name__, "on_redis_down": self.config.on_redis_down},
        )
        self.on_unavailable("served" if open_ else "refused")
        if open_:
            return Admission()
        raise RateLimiterUnavailable(
            "the rate limiter is unavailable, so requests with limits are refused for now; retry shortly",
            headers={"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )

    async def _keep_lease(self, quotas: tuple[Quota, ...], member: str) -> None:
        """Refresh a running stream's lease every third of its length, until cancelled (``Admission.settle``)."""
        lease_ms = int(self.config.stream_lease * 1000)
        while True:
            await asyncio.sleep(self.config.stream_lease / 3)
            try:
                await self._run("refresh", _keys(quotas), [self._now(), member, lease_ms])
            except self._failures as exc:  # tried again next time; the lease may lapse
                log.warning("stream lease not refreshed", extra={"error": type(exc).__name__})

    async def settle(self, quotas: tuple[Quota, ...], member: str, tokens: int) -> None:
        """Charge ``tokens`` to the quotas that count tokens and give the stream's lease back."""
        flags = ["1" if q.spec.tokens_per_minute is not None else "0" for q in quotas]
        try:
            await self._run("settle", _keys(quotas), [self._now(), WINDOW_MS, member, max(0, tokens), *flags])
        except self._failures as exc:
            log.warning("rate limiter could not charge an answer", extra={"error": type(exc).__name__})
            self.on_unavailable("settled")
