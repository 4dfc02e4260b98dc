"""Translation tables between Ollama and OpenAI shapes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from clearance.endpoints import OLLAMA_CHAT, OLLAMA_EMBED, OLLAMA_GENERATE, Endpoint
from clearance.exceptions import UpstreamProtocolError
from clearance.proxy import ollama


def test_chat_tool_calls_become_openai_json_strings_and_back() -> None:
    body = {
        "model": "m",
        "messages": [
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
        "format": "json",
    }
    target, request = ollama.to_openai_request(OLLAMA_CHAT, body, "up-m", stream=False)
    assert target.path == "/v1/chat/completions"
    call = request["messages"][0]["tool_calls"][0]
    assert orjson.loads(call["function"]["arguments"]) == {"x": 1}
    assert request["response_format"] == {"type": "json_object"}
    assert request["model"] == "up-m"
    answer = {"choices": [{"message": {"content": "", "tool_calls": [call]}, "finish_reason": "tool_calls"}]}
    out = ollama.to_ollama_response(OLLAMA_CHAT, answer, "m", 0.0)
    assert out["message"]["tool_calls"] == [{"function": {"name": "f", "arguments": {"x": 1}}}]
    assert out["done_reason"] == "tool_calls"


def test_raw_generate_uses_completions() -> None:
    target, request = ollama.to_openai_request(OLLAMA_GENERATE, {"prompt": "p", "raw": True}, "m", stream=True)
    assert target.path == "/v1/completions"
    assert request["prompt"] == "p"
    assert request["stream_options"] == {"include_usage": True}


def test_embed_translation() -> None:
    target, request = ollama.to_openai_request(OLLAMA_EMBED, {"input": "x"}, "m", stream=False)
    assert (target.path, request) == ("/v1/embeddings", {"model": "m", "input": "x"})
    out = ollama.to_ollama_response(
        OLLAMA_EMBED, {"data": [{"embedding": [0.5]}], "usage": {"prompt_tokens": 2}}, "m", 0
    )
    assert out == {"model": "m", "embeddings": [[0.5]], "prompt_eval_count": 2}


def test_streamed_tool_call_fragments_are_joined_in_the_final_object() -> None:
    translator = ollama.OllamaStreamTranslator(OLLAMA_CHAT, "m", 0.0)
    for part in ('{"ci', 'ty": "Paris"}'):
        delta = {
            "tool_calls": [
                {"index": 0, "function": {"name": "weather" if part.startswith("{") else None, "arguments": part}}
            ]
        }
        assert translator.chunk({"choices": [{"delta": delta}]}) is None
    translator.chunk(
        {
            "choices": [{"delta": {}, "finish_reason": "tool_calls"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 4},
        }
    )
    final = translator.done()
    assert final["message"]["tool_calls"] == [{"function": {"name": "weather", "arguments": {"city": "Paris"}}}]
    assert (final["done_reason"], final["prompt_eval_count"], final["eval_count"]) == ("tool_calls", 3, 4)


ODD_ANSWERS = [
    {"choices": ["not an object"]},
    {"choices": {"0": {}}},
    {"choices": [{"message": "text instead of an object"}]},
    {"choices": [{"message": {"content": 42}}]},
    {"choices": [{"message": {"content": ["a", "b"]}}]},
    {"choices": [{"message": {"content": "x", "tool_calls": "f()"}}]},
    {"choices": [{"message": {"content": "x", "tool_calls": [7]}}]},
    {"choices": [{"message": {"content": "x", "tool_calls": [{"function": {"name": 1}}]}}]},
    {"choices": [{"message": {"content": "x", "tool_calls": [{"function": {"arguments": 3.5}}]}}]},
    {"choices": [{"text": {"t": 1}}]},
    {"choices": [{"text": "x", "finish_reason": ["stop"]}]},
    {"choices": [{"text": "x"}], "usage": "many"},
    {"choices": [{"text": "x"}], "usage": {"prompt_tokens": "7"}},
]


@pytest.mark.parametrize("answer", ODD_ANSWERS)
@pytest.mark.parametrize("endpoint", [OLLAMA_CHAT, OLLAMA_GENERATE], ids=["chat", "generate"])
def test_odd_answer_shapes_are_a_protocol_error(endpoint: Endpoint, answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError):
        ollama.to_ollama_response(endpoint, answer, "m", 0.0)


@pytest.mark.parametrize(
    "answer",
    [
        {"data": "x"},
        {"data": [1]},
        {"data": [{"embedding": "v"}]},
        {"data": [], "usage": {"prompt_tokens": None}, "x": 1},
    ],
)
def test_odd_embedding_shapes_are_a_protocol_error_or_empty(answer: dict[str, Any]) -> None:
    if answer.get("x"):
        assert ollama.to_ollama_response(OLLAMA_EMBED, answer, "m", 0.0)["embeddings"] == []
        return
    with pytest.raises(UpstreamProtocolError):
        ollama.to_ollama_response(OLLAMA_EMBED, answer, "m", 0.0)


def test_missing_fields_of_a_choice_are_empty_not_errors() -> None:
    out = ollama.to_ollama_response(OLLAMA_CHAT, {"choices": [{}]}, "m", 0.0)
    assert out["message"] == {"role": "assistant", "content": ""}
    assert out["done_reason"] == "stop"


@pytest.mark.parametrize("answer", [{}, {"choices": None}, {"choices": []}, {"choices": [None]}])
def test_a_whole_answer_without_a_choice_is_a_protocol_error(answer: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError, match="no choice"):
        ollama.to_ollama_response(OLLAMA_CHAT, answer, "m", 0.0)


@pytest.mark.parametrize(
    "chunk",
    [
        {"choices": [3]},
        {"choices": [{"delta": "x"}]},
        {"choices": None},
        {"choices": [{"delta": {"content": 5}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": "one"}]}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": 0, "function": {"arguments": 1}}]}}]},
        {"choices": [{"text": 1}]},
        {"usage": [1], "choices": []},
    ],
)
def test_odd_stream_chunks_are_a_protocol_error(chunk: dict[str, Any]) -> None:
    with pytest.raises(UpstreamProtocolError):
        ollama.OllamaStreamTranslator(OLLAMA_CHAT, "m", 0.0).chunk(chunk)


def test_tool_call_indexes_written_as_strings_or_floats_are_one_call() -> None:
    translator = ollama.OllamaStreamTranslator(OLLAMA_CHAT, "m", 0.0)
    for index, part in (("0", '{"a":'), (0.0, " 1}"), (None, "")):
        translator.chunk({"choices": [{"delta": {"tool_calls": [{"index": index, "function": {"arguments": part}}]}}]})
    assert translator.done()["message"]["tool_calls"] == [{"function": {"name": "", "arguments": {"a": 1}}}]
