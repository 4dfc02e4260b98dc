"""Split values: a value cut across adjacent messages or content parts is still the value.

The model reads the conversation as one text, so the gateway must inspect the joins too: each case sends the two
halves in adjacent places, and the whole value (or its digits) must not reach the upstream.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.attacks.conftest import ATTACK_LOOP, OLLAMA_MODEL, OPENAI_MODEL, Attack
from tests.attacks.harness import GITHUB_TOKEN, IBAN_GB, SSN, VISA, Secret

pytestmark = ATTACK_LOOP

CARD_SPACED = "4111 1111 1111 1111"


def halves(text: str, at: int) -> tuple[str, str]:
    return text[:at], text[at:]


def messages(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {
        "model": OPENAI_MODEL,
        "messages": [{"role": "user", "content": f"my card is {a}"}, {"role": "user", "content": f"{b} thanks"}],
    }


def parts(a: str, b: str) -> tuple[str, dict[str, Any]]:
    content = [{"type": "text", "text": f"my card is {a}"}, {"type": "text", "text": f"{b} thanks"}]
    return "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": content}]}


def system_then_user(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {
        "model": OPENAI_MODEL,
        "messages": [{"role": "system", "content": f"remember {a}"}, {"role": "user", "content": b}],
    }


def user_then_assistant(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {
        "model": OPENAI_MODEL,
        "messages": [{"role": "user", "content": f"note {a}"}, {"role": "assistant", "content": b}],
    }


def responses_parts(a: str, b: str) -> tuple[str, dict[str, Any]]:
    content = [{"type": "input_text", "text": f"card {a}"}, {"type": "input_text", "text": b}]
    return "/v1/responses", {"model": OPENAI_MODEL, "input": [{"role": "user", "content": content}]}


def responses_items(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/responses", {
        "model": OPENAI_MODEL,
        "input": [{"role": "user", "content": f"card {a}"}, {"role": "user", "content": b}],
    }


def responses_instructions(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/responses", {"model": OPENAI_MODEL, "instructions": f"card {a}", "input": b}


def ollama_messages(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/api/chat", {
        "model": OLLAMA_MODEL,
        "stream": False,
        "messages": [{"role": "user", "content": f"card {a}"}, {"role": "user", "content": b}],
    }


def ollama_system_prompt(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/api/generate", {"model": OLLAMA_MODEL, "stream": False, "system": f"card {a}", "prompt": b}


def tool_result_parts(a: str, b: str) -> tuple[str, dict[str, Any]]:
    return "/v1/chat/completions", {
        "model": OPENAI_MODEL,
        "messages": [
            {"role": "user", "content": "look it up"},
            {
                "role": "tool",
                "tool_call_id": "c1",
                "content": [{"type": "text", "text": a}, {"type": "text", "text": b}],
            },
        ],
    }


JOINS = {
    "messages": messages,
    "content_parts": parts,
    "system_then_user": system_then_user,
    "user_then_assistant": user_then_assistant,
    "responses_content_parts": responses_parts,
    "responses_input_items": responses_items,
    "responses_instructions_and_input": responses_instructions,
    "ollama_messages": ollama_messages,
    "ollama_system_and_prompt": ollama_system_prompt,
    "tool_result_parts": tool_result_parts,
}

VALUES: dict[str, tuple[Secret, str, int]] = {
    "card_spaced": (VISA, CARD_SPACED, 10),
    "card_plain": (VISA, VISA.raw, 8),
    "ssn": (SSN, SSN.raw, 7),
    "iban": (IBAN_GB, IBAN_GB.raw, 11),
    "github_token": (GITHUB_TOKEN, GITHUB_TOKEN.raw, 20),
}


CASES = [(j, v) for v in ("card_spaced", "github_token") for j in JOINS] + [
    (j, v) for v in ("card_plain", "ssn", "iban") for j in ("messages", "content_parts", "responses_input_items")
]


@pytest.mark.parametrize(("join", "value"), CASES, ids=[f"{j}-{v}" for j, v in CASES])
async def test_value_split_across_a_join(attack: Attack, join: str, value: str) -> None:
    secret, text, at = VALUES[value]
    a, b = halves(text, at)
    path, body = JOINS[join](a, b)
    await attack.post(path, body)
    await attack.check([secret])


@pytest.mark.parametrize("at", range(1, 19, 3), ids=[f"cut_at_{i}" for i in range(1, 19, 3)])
async def test_spaced_card_cut_at_every_position_across_messages(attack: Attack, at: int) -> None:
    path, body = messages(*halves(CARD_SPACED, at))
    await attack.post(path, body)
    await attack.check([VISA])


async def test_card_spread_over_four_parts(attack: Attack) -> None:
    content = [{"type": "text", "text": g} for g in CARD_SPACED.split()]
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": content}]}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA])
