"""``Transcript``: a streamed answer's text and tool calls, assembled from the upstream's events, bounded."""

from __future__ import annotations

from clearance.proxy.transcript import Transcript


def test_when_openai_chunks_arrive_then_their_text_and_tool_calls_are_joined_in_order() -> None:
    t = Transcript(10_000)
    t.add({"choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}}]})
    t.add({"choices": [{"index": 0, "delta": {"content": "lo"}}]})
    t.add(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "id": "c1", "function": {"name": "f", "arguments": '{"a"'}}]},
                }
            ]
        }
    )
    t.add({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}}]})
    t.add({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {"total_tokens": 3}})
    assert t.document() == {"content": "Hello", "tool_calls": [{"name": "f", "arguments": '{"a": 1}'}]}
    assert not t.truncated


def test_when_completion_chunks_arrive_then_their_text_is_joined() -> None:
    t = Transcript(100)
    for piece in ("one ", "two"):
        t.add({"choices": [{"index": 0, "text": piece}]})
    assert t.document() == {"content": "one two"}


def test_when_responses_events_arrive_then_text_deltas_and_function_arguments_are_kept() -> None:
    t = Transcript(100)
    t.add({"type": "response.created", "response": {"id": "r1"}})
    t.add({"type": "response.output_text.delta", "delta": "Hi "})
    t.add({"type": "response.output_text.delta", "delta": "there"})
    t.add({"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "name": "g"}})
    t.add({"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "{}"})
    t.add({"type": "response.output_text.done", "text": "Hi there"})  # the whole text again: not kept twice
    assert t.document() == {"content": "Hi there", "tool_calls": [{"name": "g", "arguments": "{}"}]}


def test_when_ollama_lines_arrive_then_message_content_response_and_tool_calls_are_kept() -> None:
    t = Transcript(100)
    t.add({"message": {"role": "assistant", "content": "a"}, "done": False})
    t.add(
        {
            "message": {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "h", "arguments": {"x": 1}}}],
            }
        }
    )
    t.add({"response": "b", "done": False})
    t.add({"done": True, "eval_count": 3})
    assert t.document() == {"content": "ab", "tool_calls": [{"name": "h", "arguments": '{"x":1}'}]}


def test_when_events_are_malformed_then_nothing_is_kept_from_them_and_nothing_fails() -> None:
    t = Transcript(100)
    for event in ({"choices": "x"}, {"choices": [1, {"delta": "x"}]}, {"message": "x"}, {"type": 5}, {"response": 3}):
        t.add(event)
    t.add({"choices": [{"delta": {"tool_calls": [1, {"function": "x"}]}}]})
    assert t.document() == {"content": ""}


def test_when_the_answer_grows_past_the_limit_then_nothing_more_is_kept_and_it_says_so() -> None:
    t = Transcript(10)
    t.add({"response": "12345"})
    t.add({"response": "678901"})  # would pass the limit: dropped, and so is anything after
    t.add({"response": "2"})
    assert t.truncated and t.document() == {"content": "12345"}
