"""Translation tables between Ollama and OpenAI shapes."""

from __future__ import annotations

import orjson

from clearance.proxy import ollama
from clearance.proxy.endpoints import OLLAMA_CHAT, OLLAMA_EMBED, OLLAMA_GENERATE


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
