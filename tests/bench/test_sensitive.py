"""The masking benchmark's payloads: realistic values the real detectors find, split across stream events, and
expectations that hold for the real masker's output and fail for raw text."""

from __future__ import annotations

import orjson
import pytest

from bench.expectations import problem
from bench.sensitive import (
    ANSWER,
    GATEWAY_ANSWER,
    GATEWAY_UPSTREAM,
    PROMPT_CARD,
    PROMPT_EMAIL,
    PROMPT_SSN,
    PROMPT_TOKEN,
    RESTRICTED_IN_ANSWER,
    STREAM_EVENTS,
    UNMASKED_ANSWER,
    UNMASKED_UPSTREAM,
    masking_chat_body,
    stream_pieces,
    token_pieces,
)
from clearance.config import parse_config
from clearance.detect import Scanner
from clearance.endpoints import MODEL_ENDPOINTS
from clearance.enforce.inspector import Inspector
from clearance.models import Identity
from clearance.policy import PolicyHolder
from clearance.proxy.pipeline import mask_whole


@pytest.fixture(scope="module")
def inspector() -> Inspector:
    config = parse_config({"upstreams": [{"name": "u", "base_url": "http://127.0.0.1:9/v1", "models": ["m"]}]})
    policy = PolicyHolder.from_settings(config.policy)  # none configured: the default policy
    return Inspector(scan=Scanner().scan, classify=policy.classify, decide=policy.decide, hash_key=b"k" * 32)


@pytest.mark.parametrize("stream", [False, True])
def test_when_the_prompt_is_built_then_it_is_2_kb_with_every_value_in_the_user_message(stream: bool) -> None:
    body = masking_chat_body(stream, model="some-model")
    assert len(body) == 2048
    data = orjson.loads(body)
    assert data["model"] == "some-model"
    assert data.get("stream", False) is stream
    user = data["messages"][1]["content"]
    for value in (PROMPT_CARD, PROMPT_SSN, PROMPT_EMAIL, PROMPT_TOKEN):
        assert value in user


def test_when_the_answer_is_streamed_then_it_has_60_events_and_every_value_is_split_across_events() -> None:
    pieces = stream_pieces()
    assert len(pieces) == STREAM_EVENTS
    text = "".join(pieces)
    assert text.startswith(ANSWER)
    for value in RESTRICTED_IN_ANSWER:
        assert value in text
        assert not any(value in piece for piece in pieces), "a value must not fit in one event"
    # like a model's tokens, pieces carry their leading space and never end in one
    assert all(not p.endswith(" ") for p in pieces)


def test_when_fewer_events_are_asked_than_the_answer_needs_then_it_says_so() -> None:
    with pytest.raises(ValueError, match="at least"):
        stream_pieces(len(token_pieces(ANSWER)) - 1)


def test_when_the_real_masker_runs_on_the_prompt_then_the_upstream_expectations_hold(inspector: Inspector) -> None:
    endpoint = next(e for e in MODEL_ENDPOINTS if e.path == "/v1/chat/completions")
    body = orjson.loads(masking_chat_body(False))
    raw = orjson.dumps(body).decode()
    masked = inspector.inspect(
        endpoint, body, identity=Identity.anonymous(), model="m", upstream="u", declared=None
    ).body
    text = orjson.dumps(masked).decode()
    assert problem(text, GATEWAY_UPSTREAM.required, GATEWAY_UPSTREAM.forbidden, "upstream") is None
    assert problem(raw, GATEWAY_UPSTREAM.required, GATEWAY_UPSTREAM.forbidden, "upstream") is not None
    assert problem(raw, UNMASKED_UPSTREAM.required, UNMASKED_UPSTREAM.forbidden, "upstream") is None


def test_when_the_real_masker_runs_on_the_answer_then_the_caller_expectations_hold(inspector: Inspector) -> None:
    endpoint = next(e for e in MODEL_ENDPOINTS if e.path == "/v1/chat/completions")
    body = orjson.loads(masking_chat_body(False))
    masker = inspector.inspect(endpoint, body, identity=Identity.anonymous(), model="m", upstream="u", declared=None)
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(stream_pieces())}}]}
    masked = mask_whole(masker.masker, answer)["choices"][0]["message"]["content"]
    raw = "".join(stream_pieces())
    assert problem(masked, GATEWAY_ANSWER.required, GATEWAY_ANSWER.forbidden, "caller") is None
    assert problem(raw, GATEWAY_ANSWER.required, GATEWAY_ANSWER.forbidden, "caller") is not None
    assert problem(raw, UNMASKED_ANSWER.required, UNMASKED_ANSWER.forbidden, "caller") is None
