"""Placeholders: the model sees ``<EMAIL_ADDRESS_1>``, callers allowed to see originals get them back, even when
the model's answer splits a placeholder across stream events."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from clearance.testing.fake_upstream import FakeUpstream
from tests.conftest import GatewayFactory, RunningGateway

JANE = "jane.doe@acme-corp.io"
BOB = "bob.smith@acme-corp.io"
POLICY = """
version: 1
clearances:
  - anonymous: true
    level: internal
models:
  - name: fake-model
    max_level: restricted
rules:
  - id: placeholders
    when: {{}}
    action: mask
    mask:
      operators: {{EMAIL_ADDRESS: placeholder}}
      restore: {restore}
"""


async def gateway_with(make_gateway: GatewayFactory, up: FakeUpstream, tmp_path: Path, restore: bool) -> RunningGateway:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.format(restore="true" if restore else "false"))
    return await make_gateway(
        [{"name": "fake", "base_url": up.base_url, "models": ["fake-model"]}], policy={"file": str(policy)}
    )


PROMPT: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": f"{JANE} wrote to {BOB}, then {JANE} wrote again."}
]
ANSWER = "Customer <EMAIL_ADDRESS_1> wrote to <EMAIL_ADDRESS_2>."


async def test_model_sees_consistent_placeholders(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gw = await gateway_with(make_gateway, fake_upstream, tmp_path, restore=True)
    async with (
        aiohttp.ClientSession() as s,
        s.post(gw.base_url + "/chat/completions", json={"model": "fake-model", "messages": PROMPT}) as r,
    ):
        assert r.status == 200
    sent = fake_upstream.received[0].body["messages"][0]["content"]
    assert sent == "<EMAIL_ADDRESS_1> wrote to <EMAIL_ADDRESS_2>, then <EMAIL_ADDRESS_1> wrote again."


@pytest.mark.parametrize(("restore", "expected"), [(True, f"Customer {JANE} wrote to {BOB}."), (False, ANSWER)])
async def test_answers_are_restored_only_for_callers_allowed(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path, restore: bool, expected: str
) -> None:
    gw = await gateway_with(make_gateway, fake_upstream, tmp_path, restore=restore)
    fake_upstream.behaviour.reply = ANSWER
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
        whole = await sdk.chat.completions.create(model="fake-model", messages=PROMPT)
        assert whole.choices[0].message.content == expected
        for k in range(1, len(ANSWER)):  # the placeholder split at every point of the stream
            fake_upstream.behaviour.pieces = [ANSWER[:k], ANSWER[k:]]
            stream = await sdk.chat.completions.create(model="fake-model", messages=PROMPT, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
            assert text == expected, k


async def test_a_placeholder_the_request_never_had_is_not_invented(
    make_gateway: GatewayFactory, fake_upstream: FakeUpstream, tmp_path: Path
) -> None:
    gw = await gateway_with(make_gateway, fake_upstream, tmp_path, restore=True)
    fake_upstream.behaviour.reply = "See <EMAIL_ADDRESS_7> and [EMAIL ADDRESS 2]."
    async with openai.AsyncOpenAI(base_url=gw.base_url, api_key="x", max_retries=0) as sdk:
        whole = await sdk.chat.completions.create(model="fake-model", messages=PROMPT)
    assert whole.choices[0].message.content == f"See <EMAIL_ADDRESS_7> and {BOB}."
