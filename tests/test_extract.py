"""Every text in a payload is found and rewritten, whatever its shape; structure is left alone."""

from __future__ import annotations

import orjson

from clearance.extract import has_token_ids, iter_texts, rewrite_texts

CHAT = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "sys"},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "part"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            ],
        },
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"q": "arg", "n": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
    ],
    "future_field": {"nested": ["new"]},
}


def test_every_text_is_found_and_structure_is_skipped() -> None:
    assert list(iter_texts(CHAT)) == ["sys", "part", "f", "arg", "result", "new"]


def test_rewrite_keeps_tool_arguments_valid_json() -> None:
    out = rewrite_texts(CHAT, str.upper)
    args = out["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert orjson.loads(args) == {"q": "ARG", "n": 1}
    assert out["model"] == "m"
    assert out["messages"][0] == {"role": "system", "content": "SYS"}
    assert out["messages"][1]["content"][1]["image_url"]["url"] == "data:image/png;base64,AAAA"
    assert out["future_field"] == {"nested": ["NEW"]}
    assert CHAT["messages"][0]["content"] == "sys"  # the input is not mutated


def test_arguments_that_are_not_json_are_text() -> None:
    out = rewrite_texts({"arguments": "not json"}, str.upper)
    assert out == {"arguments": "NOT JSON"}


def test_dropped_keys_become_null() -> None:
    assert rewrite_texts({"logprobs": {"content": [{"token": "x"}]}, "t": "a"}, str.upper, frozenset({"logprobs"})) == {
        "logprobs": None,
        "t": "A",
    }


def test_token_ids_are_recognised() -> None:
    assert has_token_ids([1, 2, 3])
    assert has_token_ids([[1, 2], [3]])
    assert not has_token_ids(["a"])
    assert not has_token_ids("a")
    assert not has_token_ids([])
