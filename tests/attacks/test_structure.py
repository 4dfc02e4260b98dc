"""Structure: keys, ids, roles, types, tool names and every other "structural" string; integer JSON numbers that
are valid cards; token-id inputs in any nesting; and a bounded fuzz of random extra fields around real values.

A structural string passes unmasked only when it matches its strict format and holds no finding; otherwise the
request is refused with 400. Token ids cannot be inspected, so they are refused unless configured.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from tests.attacks.conftest import ATTACK_LOOP, OLLAMA_MODEL, OPENAI_MODEL, Attack
from tests.attacks.harness import (
    ALL_SECRETS,
    GITHUB_TOKEN,
    SSN,
    VISA,
    LeakError,
    Secret,
    assert_no_5xx,
    expect,
    find_leak,
)

pytestmark = ATTACK_LOOP

CARD = VISA.raw
TOKEN = GITHUB_TOKEN.raw


def user(content: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {"role": "user", "content": content, **extra}


def chat_body(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"model": OPENAI_MODEL, "messages": list(messages) or [user()], **extra}


def tool_call(**function: Any) -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}", **function}}


STRUCTURAL: dict[str, tuple[str, dict[str, Any], Secret]] = {
    "top_level_key": ("/v1/chat/completions", chat_body(**{CARD: "x"}), VISA),
    "metadata_key": ("/v1/chat/completions", chat_body(metadata={CARD: "note"}), VISA),
    "message_key": ("/v1/chat/completions", chat_body(user(**{SSN.raw: True})), SSN),
    "nested_key": ("/v1/chat/completions", chat_body(extra={"a": [{TOKEN: 1}]}), GITHUB_TOKEN),
    "role": ("/v1/chat/completions", chat_body({"role": f"user {CARD}", "content": "hi"}), VISA),
    "role_token": ("/v1/chat/completions", chat_body({"role": TOKEN, "content": "hi"}), GITHUB_TOKEN),
    "content_part_type": ("/v1/chat/completions", chat_body(user([{"type": CARD, "text": "hi"}])), VISA),
    "message_id": ("/v1/chat/completions", chat_body(user(id=CARD)), VISA),
    "tool_call_id": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "tool", "tool_call_id": TOKEN, "content": "ok"}),
        GITHUB_TOKEN,
    ),
    "tool_call_id_card": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "tool", "tool_call_id": f"call_{CARD}", "content": "ok"}),
        VISA,
    ),
    "assistant_tool_call_id": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "assistant", "tool_calls": [{**tool_call(), "id": TOKEN}]}),
        GITHUB_TOKEN,
    ),
    "tool_call_type": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "assistant", "tool_calls": [{**tool_call(), "type": CARD}]}),
        VISA,
    ),
    "tool_call_name": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "assistant", "tool_calls": [tool_call(name=f"pay_{CARD}")]}),
        VISA,
    ),
    "tool_definition_name": (
        "/v1/chat/completions",
        chat_body(tools=[{"type": "function", "function": {"name": TOKEN, "parameters": {}}}]),
        GITHUB_TOKEN,
    ),
    "tool_parameter_property_name": (
        "/v1/chat/completions",
        chat_body(
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "f",
                        "parameters": {"type": "object", "properties": {CARD: {"type": "string"}}},
                    },
                }
            ]
        ),
        VISA,
    ),
    "tool_choice_name": (
        "/v1/chat/completions",
        chat_body(tool_choice={"type": "function", "function": {"name": TOKEN}}),
        GITHUB_TOKEN,
    ),
    "message_name": ("/v1/chat/completions", chat_body(user(name=SSN.raw)), SSN),
    "status_field": ("/v1/chat/completions", chat_body(status=CARD), VISA),
    "object_field": ("/v1/chat/completions", chat_body(object=TOKEN), GITHUB_TOKEN),
    "finish_reason_field": ("/v1/chat/completions", chat_body(finish_reason=CARD), VISA),
    "service_tier": ("/v1/chat/completions", chat_body(service_tier=CARD), VISA),
    "system_fingerprint": ("/v1/chat/completions", chat_body(system_fingerprint=TOKEN), GITHUB_TOKEN),
    "created_at": ("/v1/chat/completions", chat_body(created_at=SSN.raw), SSN),
    "response_format_type": ("/v1/chat/completions", chat_body(response_format={"type": CARD}), VISA),
    "embedding_encoding_format": (
        "/v1/embeddings",
        {"model": OPENAI_MODEL, "input": "hi", "encoding_format": CARD},
        VISA,
    ),
    "responses_item_id": (
        "/v1/responses",
        {"model": OPENAI_MODEL, "input": [{"type": "message", "role": "user", "id": TOKEN, "content": "hi"}]},
        GITHUB_TOKEN,
    ),
    "responses_call_id": (
        "/v1/responses",
        {"model": OPENAI_MODEL, "input": [{"type": "function_call_output", "call_id": CARD, "output": "ok"}]},
        VISA,
    ),
    "responses_item_type": (
        "/v1/responses",
        {"model": OPENAI_MODEL, "input": [{"type": f"message {CARD}", "role": "user", "content": "hi"}]},
        VISA,
    ),
    "responses_previous_id": (
        "/v1/responses",
        {"model": OPENAI_MODEL, "input": "hi", "previous_response_id": TOKEN},
        GITHUB_TOKEN,
    ),
    "ollama_role": (
        "/api/chat",
        {"model": OLLAMA_MODEL, "stream": False, "messages": [{"role": CARD, "content": "hi"}]},
        VISA,
    ),
    "ollama_format": ("/api/generate", {"model": OLLAMA_MODEL, "stream": False, "prompt": "hi", "format": CARD}, VISA),
    "ollama_options_key": (
        "/api/generate",
        {"model": OLLAMA_MODEL, "stream": False, "prompt": "hi", "options": {TOKEN: 1}},
        GITHUB_TOKEN,
    ),
}


@pytest.mark.parametrize("case", STRUCTURAL, ids=list(STRUCTURAL))
async def test_value_in_a_structural_place(attack: Attack, case: str) -> None:
    path, body, secret = STRUCTURAL[case]
    await attack.post(path, body)
    await attack.check([secret])


INTEGERS: dict[str, tuple[str, dict[str, Any]]] = {
    "top_level_extra": ("/v1/chat/completions", chat_body(account=int(CARD))),
    "metadata_value": ("/v1/chat/completions", chat_body(metadata={"card": int(CARD)})),
    "user_field": ("/v1/chat/completions", chat_body(user=int(CARD))),
    "seed": ("/v1/chat/completions", chat_body(seed=int(CARD))),
    "in_a_list": ("/v1/chat/completions", chat_body(extra=[1, 2, int(CARD)])),
    "message_extra": ("/v1/chat/completions", chat_body(user(card=int(CARD)))),
    "tool_arguments_json": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "assistant", "tool_calls": [tool_call(arguments=f'{{"card": {CARD}}}')]}),
    ),
    "tool_arguments_object": (
        "/v1/chat/completions",
        chat_body(user(), {"role": "assistant", "tool_calls": [tool_call(arguments={"card": int(CARD)})]}),
    ),
    "responses_metadata": ("/v1/responses", {"model": OPENAI_MODEL, "input": "hi", "metadata": {"n": int(CARD)}}),
    "ollama_options": (
        "/api/generate",
        {"model": OLLAMA_MODEL, "stream": False, "prompt": "hi", "options": {"seed": int(CARD)}},
    ),
    "float_form": ("/v1/chat/completions", chat_body(account=float(CARD))),
}


@pytest.mark.parametrize("case", INTEGERS, ids=list(INTEGERS))
async def test_card_as_a_json_number(attack: Attack, case: str) -> None:
    path, body = INTEGERS[case]
    await attack.post(path, body)
    await attack.check([VISA])


TOKEN_IDS: dict[str, tuple[str, dict[str, Any]]] = {
    "completion_flat": ("/v1/completions", {"model": OPENAI_MODEL, "prompt": [101, 2023, 102]}),
    "completion_first_list_empty": ("/v1/completions", {"model": OPENAI_MODEL, "prompt": [[], [101, 2023, 102]]}),
    "completion_text_then_ids": ("/v1/completions", {"model": OPENAI_MODEL, "prompt": ["hi", [101, 2023]]}),
    "completion_deeper_nesting": ("/v1/completions", {"model": OPENAI_MODEL, "prompt": [[[101, 2023]]]}),
    "completion_empty_then_ids_flat": ("/v1/completions", {"model": OPENAI_MODEL, "prompt": [[], 101, 2023]}),
    "embedding_first_list_empty": ("/v1/embeddings", {"model": OPENAI_MODEL, "input": [[], [7592, 2088]]}),
    "embedding_text_then_ids": ("/v1/embeddings", {"model": OPENAI_MODEL, "input": ["hello", [7592, 2088]]}),
    "chat_content_ids": ("/v1/chat/completions", chat_body(user([{"type": "text", "text": "hi"}], tokens=[1, 2, 3]))),
    "chat_prompt_token_ids": ("/v1/chat/completions", chat_body(prompt_token_ids=[101, 2023, 102])),
    "responses_input_ids": (
        "/v1/responses",
        {"model": OPENAI_MODEL, "input": [{"type": "message", "role": "user", "content": [1, 2, 3]}]},
    ),
    "ollama_context": (
        "/api/generate",
        {"model": OLLAMA_MODEL, "stream": False, "prompt": "go on", "context": [1, 2, 3]},
    ),
    "ollama_context_openai_upstream": (
        "/api/generate",
        {"model": OPENAI_MODEL, "stream": False, "prompt": "go on", "context": [101, 2023]},
    ),
}


@pytest.mark.parametrize("case", TOKEN_IDS, ids=list(TOKEN_IDS))
async def test_token_ids_are_refused_in_any_nesting(attack: Attack, case: str) -> None:
    path, body = TOKEN_IDS[case]
    reply = await attack.post(path, body)
    assert_no_5xx(reply.status, "token ids")
    if attack.upstream.received:
        raise LeakError(f"token ids ({case}) cannot be inspected but were forwarded to the upstream")
    expect(reply.status == 400, f"token ids ({case}) got {reply.status}, not 400")


# -- fuzz: random extra fields around real values -------------------------------------------------------------

_KEYS = ("id", "type", "role", "name", "status", "object", "call_id", "note", "x", "data", "meta", "tag", "value")


def _fuzz_value(rng: random.Random, secret: Secret, depth: int = 0) -> Any:
    kind = rng.randrange(6 if depth < 3 else 3)
    if kind == 0:
        return secret.raw
    if kind == 1:
        return f"{rng.choice(('see', 'ref', 'id'))} {secret.raw}"
    if kind == 2:
        return int(secret.compact) if secret.compact.isdigit() else secret.raw
    if kind == 3:
        return [_fuzz_value(rng, secret, depth + 1), rng.random()]
    if kind == 4:
        return {rng.choice(_KEYS): _fuzz_value(rng, secret, depth + 1)}
    return {secret.raw: rng.choice(_KEYS)}


def _fuzz_body(rng: random.Random, secret: Secret) -> tuple[str, dict[str, Any]]:
    path, body = rng.choice(
        [
            ("/v1/chat/completions", chat_body()),
            ("/v1/completions", {"model": OPENAI_MODEL, "prompt": "hi"}),
            ("/v1/responses", {"model": OPENAI_MODEL, "input": [{"type": "message", "role": "user", "content": "hi"}]}),
            ("/api/chat", {"model": OLLAMA_MODEL, "stream": False, "messages": [user()]}),
        ]
    )
    for _ in range(rng.randint(1, 3)):
        target: dict[str, Any] = body
        if rng.random() < 0.5:
            items = body.get("messages") or body.get("input")
            if isinstance(items, list):
                target = items[0]
        target[rng.choice(_KEYS)] = _fuzz_value(rng, secret)
    return path, body


FUZZ_CASES = 120


async def test_fuzz_random_extra_fields_forward_no_raw_value(attack: Attack) -> None:
    rng = random.Random(1010)
    leaked: list[str] = []
    for n in range(FUZZ_CASES):
        secret = rng.choice(ALL_SECRETS)
        path, body = _fuzz_body(rng, secret)
        attack.upstream.reset()
        attack.replies.clear()
        reply = await attack.post(path, body)
        assert_no_5xx(reply.status, f"fuzz case {n}")
        for place in await attack.places():
            if place.name.startswith("the upstream") and find_leak(place, secret) is not None:
                leaked.append(f"#{n} {secret.kind} {secret.shown} via {path}")
                break
    if leaked:
        raise LeakError(f"{len(leaked)} of {FUZZ_CASES} fuzzed requests forwarded a raw value: {', '.join(leaked[:8])}")
