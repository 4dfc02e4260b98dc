"""The limiter against the real Redis: atomic admission under concurrency, windows moved by an injected clock,
tokens charged after the answer, stream leases that lapse, and Redis that is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from clearance.exceptions import (
    ConfigError,
    RateLimited,
    RateLimiterUnavailable,
    StreamLimitExceeded,
    TokenLimitExceeded,
)
from clearance.limits.config import LimitsConfig, RateSpec
from clearance.limits.limiter import RateLimiter
from clearance.models import Identity, Usage
from tests.limits.conftest import REDIS_URL

ADA = Identity("ada", email="ada@example.com", issuer="https://idp.example")
BOB = Identity("bob", issuer="https://idp.example")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


LimiterFactory = Callable[..., Any]


@pytest.fixture
async def make_limiter(key_prefix: str) -> AsyncIterator[LimiterFactory]:
    made: list[RateLimiter] = []

    async def make(clock: Clock | None = None, refused: list[Any] | None = None, **limits: Any) -> RateLimiter:
        config = LimitsConfig.model_validate({"redis_url": REDIS_URL, "key_prefix": key_prefix, "timeout": 5, **limits})
        limiter = RateLimiter(
            config,
            clock=clock,
            on_refused=lambda limit, scope: (refused if refused is not None else []).append((limit, scope)),
        )
        await limiter.start()
        made.append(limiter)
        return limiter

    yield make
    for limiter in made:
        await limiter.close()


async def test_concurrent_requests_on_two_limiters_admit_exactly_the_limit(make_limiter: LimiterFactory) -> None:
    limits = {"defaults": {"requests_per_minute": 10}}
    one, two = await make_limiter(**limits), await make_limiter(**limits)  # two instances sharing Redis

    async def attempt(limiter: RateLimiter) -> bool:
        try:
            await limiter.admit(ADA, "m", stream=False)
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(attempt(one if i % 2 else two) for i in range(40)))
    assert results.count(True) == 10
    assert await attempt(one) is False
    await one.admit(BOB, "m", stream=False)  # another identity has its own budget


async def test_the_window_slides_and_retry_after_says_when(make_limiter: LimiterFactory) -> None:
    clock = Clock()
    refused: list[Any] = []
    limiter = await make_limiter(clock, refused, defaults={"requests_per_minute": 2})
    first = await limiter.admit(ADA, "m", stream=False)
    assert first.headers["x-ratelimit-limit-requests"] == "2"
    assert first.headers["x-ratelimit-remaining-requests"] == "1"
    clock.now += 20
    second = await limiter.admit(ADA, "m", stream=False)
    assert second.headers["x-ratelimit-remaining-requests"] == "0"
    assert second.headers["x-ratelimit-reset-requests"] == "40s"  # the first leaves the window in 40 s
    clock.now += 10
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(ADA, "m", stream=False)
    error = caught.value
    assert (error.http_status, error.code) == (429, "rate_limit_exceeded")
    assert error.headers["Retry-After"] == "30"
    assert error.headers["x-ratelimit-remaining-requests"] == "0"
    assert "2 requests per minute" in error.message and "30 s" in error.message
    assert error.details == {"limit": "requests_per_minute", "scope": "identity"}
    assert refused == [("requests_per_minute", "identity")]
    clock.now += 30  # the first request left the window: exactly one slot is back
    await limiter.admit(ADA, "m", stream=False)
    with pytest.raises(RateLimited):
        await limiter.admit(ADA, "m", stream=False)


async def test_a_model_limit_is_counted_besides_the_identity_limit(make_limiter: LimiterFactory) -> None:
    limiter = await make_limiter(defaults={"requests_per_minute": 100}, models={"big": {"requests_per_minute": 1}})
    await limiter.admit(ADA, "big", stream=False)
    with pytest.raises(RateLimited) as caught:
        await limiter.admit(ADA, "big", stream=False)
    assert caught.value.details["scope"] == "model"
    assert "on model 'big'" in caught.value.message
    await limiter.admit(ADA, "small", stream=False)  # other models only count against the identity's own


async def test_a_refused_request_is_not_counted(make_limiter: LimiterFactory) -> None:
    clock = Clock()
    limiter = await make_limiter(clock, defaults={"requests_per_minute": 5}, models={"big": {"requests_per_minute": 1}})
    await limiter.admit(ADA, "big", stream=False)
    for _ in range(3):
        with pytest.raises(RateLimited):
            await limiter.admit(ADA, "big", stream=False)
    for _ in range(4):  # the identity's budget lost nothing to the refusals
        await limiter.admit(ADA, "small", stream=False)


async def test_tokens_are_charged_after_the_answer_and_refuse_until_the_window_frees(
    make_limiter: LimiterFactory,
) -> None:
    clock = Clock()
    limiter = await make_limiter(clock, defaults={"tokens_per_minute": 100})
    first = await limiter.admit(ADA, "m", stream=False)
    assert first.headers["x-ratelimit-remaining-tokens"] == "100"
    first.settle(Usage(prompt_tokens=30, completion_tokens=30, total_tokens=60))
    await limiter.join()
    clock.now += 15
    second = await limiter.admit(ADA, "m", stream=False)  # 60 of 100 spent: still room
    assert second.headers["x-ratelimit-remaining-tokens"] == "40"
    second.settle(Usage(prompt_tokens=25, completion_tokens=25))  # no total: prompt + completion
    await limiter.join()
    clock.now += 5
    with pytest.raises(TokenLimitExceeded) as caught:
        await limiter.admit(ADA, "m", stream=False)
    assert caught.value.code == "token_limit_exceeded"
    assert caught.value.headers["Retry-After"] == "40"  # the first charge (60) leaves the window then
    clock.now += 40
    third = await limiter.admit(ADA, "m", stream=False)
    assert third.headers["x-ratelimit-remaining-tokens"] == "50"


async def test_an_answer_without_usage_charges_nothing(make_limiter: LimiterFactory) -> None:
    limiter = await make_limiter(defaults={"tokens_per_minute": 10})
    (await limiter.admit(ADA, "m", stream=False)).settle(Usage())
    await limiter.join()
    assert (await limiter.admit(ADA, "m", stream=False)).headers["x-ratelimit-remaining-tokens"] == "10"


async def test_stream_leases_cap_streams_and_come_back_when_settled(make_limiter: LimiterFactory) -> None:
    limiter = await make_limiter(defaults={"concurrent_streams": 2})
    one = await limiter.admit(ADA, "m", stream=True)
    await limiter.admit(ADA, "m", stream=True)
    await limiter.admit(ADA, "m", stream=False)  # a whole answer takes no lease
    with pytest.raises(StreamLimitExceeded) as caught:
        await limiter.admit(ADA, "m", stream=True)
    assert caught.value.code == "too_many_concurrent_streams"
    assert "2 streams at once" in caught.value.message
    one.settle(Usage())
    await limiter.join()
    await limiter.admit(ADA, "m", stream=True)


async def test_a_lease_nobody_refreshes_lapses(make_limiter: LimiterFactory, redis_keys: Redis) -> None:
    """An instance killed with SIGKILL never settles nor refreshes: its slot is free again after the lease."""
    clock = Clock()
    dead = await make_limiter(clock, defaults={"concurrent_streams": 1}, stream_lease=30)
    alive = await make_limiter(clock, defaults={"concurrent_streams": 1}, stream_lease=30)
    await dead.admit(ADA, "m", stream=True)
    await dead.leases.cancel_all()  # the refresher dies with the instance
    with pytest.raises(StreamLimitExceeded) as caught:
        await alive.admit(ADA, "m", stream=True)
    assert caught.value.headers["Retry-After"] == "30"
    clock.now += 29
    with pytest.raises(StreamLimitExceeded):
        await alive.admit(ADA, "m", stream=True)
    clock.now += 2
    await alive.admit(ADA, "m", stream=True)


async def test_a_running_stream_keeps_its_lease_fresh(make_limiter: LimiterFactory, key_prefix: str) -> None:
    clock = Clock()
    limiter = await make_limiter(clock, defaults={"concurrent_streams": 1}, stream_lease=3)
    admission = await limiter.admit(ADA, "m", stream=True)
    [quota] = limiter.quotas(ADA, "m")
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        key = f"{quota.key}:streams"
        before = await client.zscore(key, admission.member)
        clock.now += 100
        for _ in range(100):  # the refresh runs every second, a third of the lease (bounded: 10 s)
            if await client.zscore(key, admission.member) != before:
                break
            await asyncio.sleep(0.1)
        assert await client.zscore(key, admission.member) == (clock.now + 3) * 1000
        with pytest.raises(StreamLimitExceeded):  # still held at the moved clock: refreshed, not lapsed
            await limiter.admit(ADA, "m", stream=True)
        admission.settle(Usage())
        await limiter.join()
        assert await client.zcard(f"{quota.key}:streams") == 0
    finally:
        await client.aclose()


async def test_no_limit_never_touches_redis(closed_port: int) -> None:
    limits = LimitsConfig(
        redis_url=f"redis://127.0.0.1:{closed_port}/0", models={"big": RateSpec(requests_per_minute=1)}
    )
    limiter = RateLimiter(limits)
    await limiter.start()
    try:
        admission = await limiter.admit(ADA, "small", stream=True)
        assert dict(admission.headers) == {}
    finally:
        await limiter.close()


async def test_redis_down_fails_closed_by_default(closed_port: int) -> None:
    outcomes: list[str] = []
    limits = LimitsConfig(redis_url=f"redis://127.0.0.1:{closed_port}/0", defaults=RateSpec(requests_per_minute=5))
    limiter = RateLimiter(limits, on_unavailable=outcomes.append)
    await limiter.start()
    try:
        with pytest.raises(RateLimiterUnavailable) as caught:
            await limiter.admit(ADA, "m", stream=False)
        assert (caught.value.http_status, caught.value.code) == (503, "rate_limiter_unavailable")
        assert caught.value.headers["Retry-After"] == "1"
        assert outcomes == ["refused"]
    finally:
        await limiter.close()


async def test_redis_down_serves_uncounted_when_open(closed_port: int) -> None:
    outcomes: list[str] = []
    limits = LimitsConfig(
        redis_url=f"redis://127.0.0.1:{closed_port}/0",
        on_redis_down="open",
        defaults=RateSpec(requests_per_minute=5),
    )
    limiter = RateLimiter(limits, on_unavailable=outcomes.append)
    await limiter.start()
    try:
        admission = await limiter.admit(ADA, "m", stream=True)
        assert dict(admission.headers) == {}
        assert outcomes == ["served"]
    finally:
        await limiter.close()


async def test_no_redis_configured_fails_closed_for_limited_callers() -> None:
    limiter = RateLimiter(LimitsConfig(defaults=RateSpec(requests_per_minute=5)))
    await limiter.start()
    with pytest.raises(RateLimiterUnavailable):
        await limiter.admit(ADA, "m", stream=False)
    await limiter.close()


async def test_a_url_that_is_not_redis_is_refused_without_repeating_it() -> None:
    limiter = RateLimiter(LimitsConfig(redis_url="http://user:hunter2@127.0.0.1/"))
    with pytest.raises(ConfigError) as caught:
        await limiter.start()
    assert "hunter2" not in str(caught.value) and "hunter2" not in str(caught.value.errors)


async def test_the_policy_limits_replace_the_defaults(make_limiter: LimiterFactory, key_prefix: str) -> None:
    config = LimitsConfig(redis_url=REDIS_URL, key_prefix=key_prefix, defaults=RateSpec(requests_per_minute=100))
    limiter = RateLimiter(config, lambda who: RateSpec(requests_per_minute=1) if who is ADA else None)
    await limiter.start()
    try:
        await limiter.admit(ADA, "m", stream=False)
        with pytest.raises(RateLimited):
            await limiter.admit(ADA, "m", stream=False)
        for _ in range(3):
            await limiter.admit(BOB, "m", stream=False)
    finally:
        await limiter.close()
