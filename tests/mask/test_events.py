"""OpenAI chat chunks masked event by event: the common content-only chunk and every other shape."""

from __future__ import annotations

from typing import Any

import pytest

from clearance.detect import Scanner
from clearance.mask.events import OpenAiChunkMasker
from clearance.mask.masker import Masker
from clearance.models import MaskPlan

SCANNER = Scanner.from_config(None)
CARD = "4111 1111 1111 1111"


def chunk_masker() -> OpenAiChunkMasker:
    return OpenAiChunkMasker(Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k", hold_words=False))


def chunk(content: str | None = None, *, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    choice: dict[str, Any] = {"index": 0, "delta": delta, "finish_reason": finish}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [choice], **extra}


def contents(events: list[dict[str, Any]]) -> str:
    return "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])


def run(masker: OpenAiChunkMasker, chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in chunks:
        out += masker.event(c)
    return out + masker.end()


@pytest.mark.parametrize("size", [1, 3, 6, 11])
def test_when_a_card_is_split_over_content_chunks_then_it_never_leaves_and_the_rest_is_kept(size: int) -> None:
    text = f"Charge the card {CARD} today, then confirm the order."
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    out = run(chunk_masker(), [chunk(p) for p in pieces] + [chunk(finish="stop")])
    assert contents(out) == "Charge the card [CREDIT_CARD] today, then confirm the order."
    assert all(CARD[:9] not in str(e) for e in out)
    assert all((e["id"], e["model"], e["object"]) == ("c1", "m", "chat.completion.chunk") for e in out)


def test_when_a_chunk_is_unchanged_then_its_fields_and_role_are_kept() -> None:
    first = chunk("Hello")
    first["choices"][0]["delta"]["role"] = "assistant"
    (out,) = chunk_masker().event(first)
    assert out == first


def test_when_a_chunk_field_outside_its_choices_holds_a_value_then_it_is_masked() -> None:
    (out,) = chunk_masker().event(chunk("Hi", note=f"card {CARD}"))
    assert out["note"] == "card [CREDIT_CARD]"
    assert out["choices"][0]["delta"]["content"] == "Hi"


def test_when_a_delta_carries_logprobs_then_they_are_dropped() -> None:
    c = chunk("Hi")
    c["choices"][0]["logprobs"] = {"content": [{"token": "4111", "logprob": -0.1}]}
    (out,) = chunk_masker().event(c)
    assert out["choices"][0].get("logprobs") is None
    assert out["choices"][0]["delta"]["content"] == "Hi"


def test_when_the_choice_finishes_then_what_is_held_goes_into_the_finishing_chunk() -> None:
    masker = chunk_masker()
    (held,) = masker.event(chunk("card 4111 1111"))
    (last,) = masker.event(chunk(" 1111 1111", finish="stop"))
    assert held["choices"][0]["delta"]["content"] == "card "
    assert last["choices"][0]["delta"]["content"] == "[CREDIT_CARD]"
    assert last["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("role", [[f"card {CARD}"], {"name": f"card {CARD}"}])
def test_when_a_delta_role_is_not_a_string_then_what_it_holds_is_masked(role: Any) -> None:
    c = chunk("Hi")
    c["choices"][0]["delta"]["role"] = role
    (out,) = chunk_masker().event(c)
    assert CARD not in str(out)
    assert "[CREDIT_CARD]" in str(out["choices"][0]["delta"]["role"])
