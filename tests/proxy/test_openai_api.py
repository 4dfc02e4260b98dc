"""The OpenAI-compatible endpoints, driven by the official ``openai`` SDK against the gateway and the double."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import RunningGateway

PROMPT: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
async def sdk(gateway: RunningGateway) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=gateway.base_url, api_key="caller-key", max_retries=0) as client:
        yield client


async def test_chat_completion_is_relayed(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    result = await sdk.chat.completions.create(model="fake-model", messages=PROMPT)
    assert result.choices[0].message.content == fake_upstream.behaviour.reply
    assert result.usage is not None and result.usage.total_tokens > 0
    [received] = fake_upstream.received
    assert received.path == "/v1/chat/completions"
    assert received.body["messages"] == PROMPT


async def test_alias_is_rewritten_to_the_upstream_name(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    await sdk.chat.completions.create(model="fm", messages=PROMPT)
    assert fake_upstream.received[0].body["model"] == "fake-model"


async def test_streamed_chat_arrives_whole_with_usage(
    gateway: RunningGateway, sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream
) -> None:
    stream = await sdk.chat.completions.create(
        model="fake-model",
        messages=PROMPT,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, chunks = "", None, 0
    async for chunk in stream:
        chunks += 1
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == fake_upstream.behaviour.reply
    assert chunks > 3  # relayed event by event, not collapsed
    assert usage is not None and usage.completion_tokens > 0
    [record] = [r for r in await gateway.records() if r["endpoint"] == "chat.completions"]
    assert record["stream"] is True
    assert record["status"] == 200
    assert record["total_tokens"] == usage.total_tokens


async def test_sync_sdk_works_unchanged(gateway: RunningGateway, fake_upstream: FakeUpstream) -> None:
    # the sync client blocks, so it runs in a thread while the gateway's loop serves
    def sync() -> tuple[str | None, str]:
        with openai.OpenAI(base_url=gateway.base_url, api_key="x", max_retries=0) as c:
            reply = c.chat.completions.create(model="fake-model", messages=PROMPT)
            streamed = "".join(
                ch.choices[0].delta.content or ""
                for ch in c.chat.completions.create(model="fake-model", messages=PROMPT, stream=True)
                if ch.choices
            )
            return reply.choices[0].message.content, streamed

    whole, streamed = await asyncio.to_thread(sync)
    assert whole == streamed == fake_upstream.behaviour.reply


async def test_completions_streamed_and_not(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    whole = await sdk.completions.create(model="fake-model", prompt="Once upon")
    assert whole.choices[0].text == fake_upstream.behaviour.reply
    stream = await sdk.completions.create(model="fake-model", prompt=["a", "b"], stream=True)
    text = "".join([c.choices[0].text async for c in stream if c.choices])
    assert text == fake_upstream.behaviour.reply
    assert fake_upstream.received[1].body["prompt"] == ["a", "b"]


async def test_embeddings(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    result = await sdk.embeddings.create(model="fake-model", input=["one", "two"])
    assert len(result.data) == 2
    assert len(result.data[0].embedding) == fake_upstream.behaviour.embedding_dim
    assert fake_upstream.received[0].path == "/v1/embeddings"


async def test_responses_streamed_and_not(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    whole = await sdk.responses.create(model="fake-model", input="Hello")
    assert whole.output_text == fake_upstream.behaviour.reply
    stream = await sdk.responses.create(model="fake-model", input="Hello", stream=True)
    deltas = [e.delta async for e in stream if e.type == "response.output_text.delta"]
    assert "".join(deltas) == fake_upstream.behaviour.reply


async def test_models_lists_configured_names_and_aliases(sdk: openai.AsyncOpenAI) -> None:
    models = [m.id async for m in sdk.models.list()]
    assert models == ["fake-model", "fm"]


async def test_n_greater_than_one_streams_every_choice(sdk: openai.AsyncOpenAI, fake_upstream: FakeUpstream) -> None:
    stream = await sdk.chat.completions.create(model="fake-model", messages=PROMPT, n=2, stream=True)
    texts = ["", ""]
    async for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
    assert texts == [fake_upstream.behaviour.reply] * 2
