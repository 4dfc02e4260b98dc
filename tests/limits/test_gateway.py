"""Rate limits seen from outside: the gateway's answers through the official ``openai`` SDK, two instances sharing
one Redis, stream caps, headers, audit records and metrics of refusals, and Redis that is down."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.app import LIMITER, METRICS
from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway
from tests.limits.conftest import REDIS_URL

PROMPT: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]
Factory = Callable[..., Awaitable[RunningGateway]]


@pytest.fixture
def make(make_gateway: GatewayFactory, fake_upstream: FakeUpstream, key_prefix: str) -> Factory:
    """Gateways in front of the double, sharing one audit database and one Redis key prefix."""

    async def start(limits: dict[str, Any], **extra: Any) -> RunningGateway:
        upstream = {"name": "fake", "base_url": fake_upstream.base_url, "models": ["fake-model", "big-model"]}
        shared = {"redis_url": REDIS_URL, "key_prefix": key_prefix, "timeout": 5}
        return await make_gateway([upstream], limits={**shared, **limits}, **extra)

    return start


def sdk(gateway: RunningGateway) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=gateway.base_url, api_key="unused", max_retries=0)


async def chat(client: openai.AsyncOpenAI, model: str = "fake-model") -> bool:
    """True: served; False: refused with 429."""
    try:
        await client.chat.completions.create(model=model, messages=PROMPT)
    except openai.RateLimitError:
        return False
    return True


async def test_forty_concurrent_requests_on_two_instances_serve_exactly_ten(
    make: Factory, fake_upstream: FakeUpstream
) -> None:
    limits = {"defaults": {"requests_per_minute": 10}}
    one, two = await make(limits), await make(limits)
    async with sdk(one) as a, sdk(two) as b:
        results = await asyncio.gather(*(chat(a if i % 2 else b) for i in range(40)))
    assert results.count(True) == 10
    assert len(fake_upstream.received) == 10  # the refused never reached the upstream


async def test_a_refusal_has_the_openai_shape_headers_audit_record_and_metric(make: Factory) -> None:
    gateway = await make({"defaults": {"requests_per_minute": 1}})
    async with sdk(gateway) as client:
        served = await client.chat.completions.with_raw_response.create(model="fake-model", messages=PROMPT)
        assert served.headers["x-ratelimit-limit-requests"] == "1"
        assert served.headers["x-ratelimit-remaining-requests"] == "0"
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="fake-model", messages=PROMPT)
    error = caught.value
    assert error.status_code == 429
    assert error.code == "rate_limit_exceeded"
    assert isinstance(error.body, dict)
    assert error.body["type"] == "rate_limit_error"
    assert error.body["param"] is None
    assert error.body["limit"] == "requests_per_minute"
    assert "1 requests per minute" in error.body["message"] and "Say hello" not in error.body["message"]
    retry_after = int(error.response.headers["Retry-After"])
    assert 1 <= retry_after <= 60
    assert error.response.headers["x-ratelimit-remaining-requests"] == "0"
    refused = [r for r in await gateway.records() if r["status"] == 429]
    assert [r["error_code"] for r in refused] == ["rate_limit_exceeded"]
    metrics = gateway.app[METRICS].render().decode()
    assert 'clearance_rate_limited_total{limit="requests_per_minute",scope="identity"} 1.0' in metrics


async def test_tokens_reported_by_whole_and_streamed_answers_are_charged(
    make: Factory, fake_upstream: FakeUpstream
) -> None:
    gateway = await make({"defaults": {"tokens_per_minute": 1000}})
    limiter = gateway.app[LIMITER]
    async with sdk(gateway) as client:
        whole = await client.chat.completions.create(model="fake-model", messages=PROMPT)
        assert whole.usage is not None
        await limiter.join()
        stream = await client.chat.completions.create(
            model="fake-model", messages=PROMPT, stream=True, stream_options={"include_usage": True}
        )
        streamed = None
        async for chunk in stream:
            streamed = chunk.usage or streamed
        assert streamed is not None
        await limiter.join()
        after = await client.chat.completions.with_raw_response.create(model="fake-model", messages=PROMPT)
    spent = whole.usage.total_tokens + streamed.total_tokens
    assert after.headers["x-ratelimit-remaining-tokens"] == str(1000 - spent)


async def test_a_caller_over_its_tokens_is_refused(make: Factory) -> None:
    gateway = await make({"defaults": {"tokens_per_minute": 10}})  # one answer of the double spends more
    async with sdk(gateway) as client:
        assert await chat(client)
        await gateway.app[LIMITER].join()
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="fake-model", messages=PROMPT)
    assert caught.value.code == "token_limit_exceeded"
    assert [r["error_code"] for r in await gateway.records() if r["status"] == 429] == ["token_limit_exceeded"]


async def test_the_stream_cap_refuses_a_second_stream_while_the_first_runs(
    make: Factory, fake_upstream: FakeUpstream
) -> None:
    gateway = await make({"defaults": {"concurrent_streams": 1}})
    fake_upstream.behaviour.first_byte_delay_s = 0.5
    body = {"model": "fake-model", "messages": PROMPT, "stream": True}
    url = gateway.base_url + "/chat/completions"
    async with aiohttp.ClientSession() as session:

        async def first() -> int:
            async with session.post(url, json=body) as response:
                await response.read()
                return response.status

        async def second() -> tuple[int, str, int]:
            for _ in range(500):  # until the first is at the upstream, its lease held (bounded: 10 s)
                if fake_upstream.received:
                    break
                await asyncio.sleep(0.02)
            assert fake_upstream.received
            async with session.post(url, json=body) as response:
                code = (await response.json())["error"]["code"]
                return response.status, code, int(response.headers["Retry-After"])

        served, (status, code, retry_after) = await asyncio.gather(first(), second())
        assert served == 200
        assert (status, code) == (429, "too_many_concurrent_streams")
        assert retry_after >= 1
        await gateway.app[LIMITER].join()
        async with session.post(url, json=body) as again:  # the first's lease was given back
            assert again.status == 200
            await again.read()


async def test_a_model_limit_leaves_other_models_alone(make: Factory) -> None:
    gateway = await make({"models": {"big-model": {"requests_per_minute": 1}}})
    async with sdk(gateway) as client:
        assert await chat(client, "big-model")
        assert not await chat(client, "big-model")
        assert all([await chat(client, "fake-model") for _ in range(3)])


async def test_policy_limits_of_the_caller_apply(make: Factory, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nclearances:\n  - anonymous: true\n    level: confidential\n"
        "    limits: {requests_per_minute: 2}\ndefaults:\n  unknown_model: allow\n"
    )
    gateway = await make({"defaults": {"requests_per_minute": 50}}, policy={"file": str(policy)})
    async with sdk(gateway) as client:
        assert [await chat(client) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(("mode", "status"), [("closed", 503), ("open", 200)])
async def test_redis_unreachable(make: Factory, closed_port: int, mode: str, status: int) -> None:
    gateway = await make(
        {
            "redis_url": f"redis://127.0.0.1:{closed_port}/0",
            "on_redis_down": mode,
            "defaults": {"requests_per_minute": 5},
        }
    )
    async with aiohttp.ClientSession() as session:
        body = {"model": "fake-model", "messages": PROMPT}
        async with session.post(gateway.base_url + "/chat/completions", json=body) as response:
            assert response.status == status
            if status == 503:
                assert (await response.json())["error"]["code"] == "rate_limiter_unavailable"
                assert response.headers["Retry-After"] == "1"
    metrics = gateway.app[METRICS].render().decode()
    outcome = "refused" if mode == "closed" else "served"
    assert f'clearance_rate_limiter_unavailable_total{{outcome="{outcome}"}} 1.0' in metrics


async def test_callers_without_limits_are_served_with_redis_unreachable(make: Factory, closed_port: int) -> None:
    gateway = await make(
        {"redis_url": f"redis://127.0.0.1:{closed_port}/0", "models": {"big-model": {"requests_per_minute": 5}}}
    )
    async with sdk(gateway) as client:
        raw = await client.chat.completions.with_raw_response.create(model="fake-model", messages=PROMPT)
    assert raw.http_response.status_code == 200
    assert "x-ratelimit-limit-requests" not in raw.headers


async def _tokens_left(gateway: RunningGateway) -> int:
    """The tokens the caller has left, as the next answer's headers say (after every charge in flight)."""
    await gateway.app[LIMITER].join()
    async with sdk(gateway) as client:
        raw = await client.chat.completions.with_raw_response.create(model="fake-model", messages=PROMPT)
    return int(raw.headers["x-ratelimit-remaining-tokens"])


async def test_a_streamed_responses_answer_is_charged(make: Factory) -> None:
    # the Responses API reports usage inside its `response.completed` event, not at the top of an event
    gateway = await make({"defaults": {"tokens_per_minute": 1000}})
    async with sdk(gateway) as client:
        stream = await client.responses.create(model="fake-model", input="Say hello", stream=True)
        usage = None
        async for event in stream:
            if event.type == "response.completed":
                usage = event.response.usage
    assert usage is not None and usage.total_tokens > 0
    assert await _tokens_left(gateway) == 1000 - usage.total_tokens


async def test_a_whole_ollama_answer_from_an_ollama_upstream_is_charged(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, key_prefix: str
) -> None:
    # Ollama counts tokens as prompt_eval_count and eval_count, which a whole /api/chat answer carries too
    upstream = {"name": "fake", "kind": "ollama", "base_url": fake_upstream.root, "models": ["fake-model"]}
    limits = {"redis_url": REDIS_URL, "key_prefix": key_prefix, "defaults": {"tokens_per_minute": 1000}}
    gateway = await make_gateway([upstream], limits=limits)
    body = {"model": "fake-model", "messages": PROMPT, "stream": False}
    async with aiohttp.ClientSession() as session, session.post(gateway.url + "/api/chat", json=body) as response:
        assert response.status == 200
        answer = await response.json()
    spent = answer["prompt_eval_count"] + answer["eval_count"]
    assert spent > 0
    assert await _tokens_left(gateway) == 1000 - spent
    usage = [
        (r["prompt_tokens"], r["completion_tokens"], r["total_tokens"])
        for r in await gateway.records()
        if r["endpoint"] == "ollama.chat"
    ]
    assert usage == [(11, 5, spent)]  # the audit record has them too


@pytest.mark.parametrize("path", ["/chat/completions", "/completions"])
async def test_a_stream_that_does_not_ask_for_usage_is_charged_all_the_same(
    make: Factory, fake_upstream: FakeUpstream, path: str
) -> None:
    # without stream_options.include_usage an OpenAI stream reports no usage: a caller with a token limit would
    # never be charged. The gateway asks for it, and keeps from the caller what it did not ask for.
    gateway = await make({"defaults": {"tokens_per_minute": 1000}})
    chat = path == "/chat/completions"
    body = {"model": "fake-model", "stream": True, **({"messages": PROMPT} if chat else {"prompt": "Say hello"})}
    async with aiohttp.ClientSession() as session, session.post(gateway.base_url + path, json=body) as response:
        assert response.status == 200
        events = [line[6:] for line in (await response.text()).splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert chunks and all(chunk["choices"] and "usage" not in chunk for chunk in chunks)
    assert fake_upstream.received[-1].body["stream_options"] == {"include_usage": True}
    assert await _tokens_left(gateway) == 1000 - 16


async def test_a_stream_without_token_limits_is_sent_as_asked(make: Factory, fake_upstream: FakeUpstream) -> None:
    gateway = await make({"defaults": {"requests_per_minute": 100}})
    async with sdk(gateway) as client:
        stream = await client.chat.completions.create(model="fake-model", messages=PROMPT, stream=True)
        assert all([chunk.usage is None async for chunk in stream])
    assert "stream_options" not in fake_upstream.received[-1].body


async def test_a_caller_who_leaves_a_stream_before_its_usage_is_charged_for_what_it_received(
    make: Factory, fake_upstream: FakeUpstream
) -> None:
    # the usage comes last: a caller who reads the answer and leaves just before it would otherwise never be charged
    gateway = await make({"defaults": {"tokens_per_minute": 1000}})
    fake_upstream.behaviour.event_delay_s = 0.1
    body = {"model": "fake-model", "messages": PROMPT, "stream": True}
    async with aiohttp.ClientSession() as session:
        response = await session.post(gateway.base_url + "/chat/completions", json=body)
        assert response.status == 200
        async with asyncio.timeout(10):
            first = await response.content.readline()
            while not first.startswith(b"data: {"):
                first = await response.content.readline()
        response.close()  # gone before the rest, and before the usage
    records: list[dict[str, Any]] = []
    for _ in range(200):  # until the gateway noticed and closed the books (bounded: 10 s)
        records = [r for r in await gateway.records() if r["endpoint"] == "chat.completions"]
        if records:
            break
        await asyncio.sleep(0.05)
    [record] = records
    assert record["total_tokens"] is None  # the record keeps what the upstream reported: nothing
    assert await _tokens_left(gateway) < 1000
