"""Reading recorded JSON as a person would: who said what in a request, the model's text in an answer, and each
text leaf with the path a finding's position names."""

from __future__ import annotations

from clearance.payload.readable import answer_text, parsed_text, request_lines, text_leaves


def test_when_requests_and_answers_of_other_shapes_are_read_then_their_text_is_found() -> None:
    assert request_lines({"model": "m", "prompt": "hi", "stream": True}) == [("prompt", "hi")]
    assert request_lines({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}]}]}) == [
        ("user", "a")
    ]
    assert answer_text({"choices": [{"text": "done"}]}) == "done"
    assert answer_text({"message": {"content": "ollama"}}) == "ollama"
    assert answer_text({"content": "streamed"}) == "streamed"
    assert answer_text({"output": [{"content": [{"text": "resp"}]}]}) == "resp"
    assert answer_text({"data": [1]}) == '{\n  "data": [\n    1\n  ]\n}'


def test_when_leaves_are_walked_then_each_string_comes_with_its_path_in_document_order() -> None:
    document = {"model": "m", "messages": [{"role": "user", "content": "x"}], "n": 2, "tags": ["a"]}

    assert list(text_leaves(document)) == [
        (("model",), "m"),
        (("messages", 0, "role"), "user"),
        (("messages", 0, "content"), "x"),
        (("tags", 0), "a"),
    ]


def test_when_kept_text_is_not_json_then_it_is_read_as_it_is() -> None:
    assert parsed_text('{"a": 1}') == {"a": 1}
    assert parsed_text('{"cut') == '{"cut'
    assert parsed_text(None) is None
