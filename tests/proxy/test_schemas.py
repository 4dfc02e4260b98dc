"""Validation tells the later stages what the body asks for, so they do not read the raw body again."""

from __future__ import annotations

from typing import Any

import pytest

from clearance.endpoints import OLLAMA_CHAT, OPENAI_CHAT
from clearance.exceptions import InvalidRequest
from clearance.proxy.schemas import Asked, validate_request

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("extra", "stream"),
    [({}, None), ({"stream": True}, True), ({"stream": False}, False), ({"stream": None}, False)],
    ids=["not-said", "true", "false", "null"],
)
def test_when_a_body_is_valid_then_validation_says_the_model_and_whether_a_stream_was_asked_for(
    extra: dict[str, Any], stream: bool | None
) -> None:
    assert validate_request(OPENAI_CHAT, {"model": "m", "messages": MESSAGES, **extra}) == Asked("m", stream)
    assert validate_request(OLLAMA_CHAT, {"model": "m", "messages": MESSAGES, **extra}) == Asked("m", stream)


def test_when_a_body_is_invalid_then_every_problem_is_named_with_its_path() -> None:
    with pytest.raises(InvalidRequest, match=r"model: .*; messages\.0\.role"):
        validate_request(OPENAI_CHAT, {"model": 1, "messages": [{"role": 2}]})
