"""OpenAI chat chunks masked event by event: the common content-only chunk and every other shape."""

from __future__ import annotations

import re
from typing import Any

import pytest

from clearance.detect import Scanner
from clearance.exceptions import UpstreamProtocolError
from clearance.mask.events import OllamaLineMasker, OpenAiChunkMasker, ResponsesEventMasker, mask_answer
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


def test_when_chunks_carry_a_timestamp_then_it_is_read_once_per_stream_not_once_per_event() -> None:
    """Real chunks carry ``created`` (ten digits, the same in every event): read once, it is remembered as clean,
    so the stream's chunks take the content-only path instead of a whole-event walk each."""
    scanned: list[str] = []

    def scan(text: str) -> Any:
        scanned.append(text)
        return SCANNER.scan(text)

    masker = OpenAiChunkMasker(Masker(MaskPlan({"CREDIT_CARD": "redact"}), scan, b"k", hold_words=False))
    pieces = ["The", " figures", " look", " fine", " today"]
    out = run(masker, [chunk(p, created=1733480000) for p in pieces])
    assert contents(out) == "".join(pieces)
    assert all(e["created"] == 1733480000 for e in out)
    assert scanned.count("1733480000") == 1


def test_when_a_chunk_number_holds_a_card_then_it_is_masked_in_every_event() -> None:
    out = run(chunk_masker(), [chunk(piece, created=4111111111111111) for piece in ("Hi", " there", " again")])
    assert contents(out) == "Hi there again"
    assert [e["created"] for e in out] == ["[CREDIT_CARD]"] * len(out)


def test_when_a_delta_carries_logprobs_then_they_are_dropped() -> None:
    c = chunk("Hi")
    c["choices"][0]["logprobs"] = {"content": [{"token": "4111", "logprob": -0.1}]}
    (out,) = chunk_masker().event(c)
    assert out["choices"][0].get("logprobs") is None
    assert out["choices"][0]["delta"]["content"] == "Hi"


def test_when_the_choice_finishes_while_text_is_held_then_the_finish_goes_out_with_that_text_at_the_end() -> None:
    masker = chunk_masker()
    (held,) = masker.event(chunk("card 4111 1111"))
    (finishing,) = masker.event(chunk(" 1111 1111", finish="stop"))
    assert held["choices"][0]["delta"]["content"] == "card "
    assert finishing["choices"][0]["finish_reason"] is None
    (last,) = masker.end()
    assert last["choices"][0]["delta"]["content"] == "[CREDIT_CARD]"
    assert last["choices"][0]["finish_reason"] == "stop"
    assert (last["id"], last["model"]) == ("c1", "m")


def test_when_nothing_is_held_then_the_finishing_chunk_passes_as_it_is() -> None:
    masker = chunk_masker()
    masker.event(chunk("Hello there."))
    (finishing,) = masker.event(chunk(finish="stop"))
    assert finishing["choices"][0]["finish_reason"] == "stop"
    assert masker.end() == []


@pytest.mark.parametrize("between", ["finish", "other choice", "usage"])
@pytest.mark.parametrize("index", [0, "0", 0.0, None])
def test_when_a_value_straddles_another_event_then_no_part_of_it_is_released(between: str, index: Any) -> None:
    masker = chunk_masker()
    first = chunk("card 4111 1111 ")
    second = chunk("1111 1111 ok")
    if index is None:
        del second["choices"][0]["index"]
    else:
        second["choices"][0]["index"] = index
    middle = {
        "finish": chunk(finish="stop"),
        "other choice": {**chunk("x 4111"), "choices": [{"index": 1, "delta": {"content": "y"}}]},
        "usage": {**chunk(), "choices": [], "usage": {"prompt_tokens": 1}},
    }[between]
    out = run(masker, [first, middle, second])
    joined = "".join(str(e["choices"][0]["delta"].get("content", "")) for e in out if e["choices"])
    assert "4111" not in joined.replace("x 4111", "")
    assert "[CREDIT_CARD]" in joined


@pytest.mark.parametrize(
    "delta",
    [
        {"reasoning_content": f"the card is {CARD}"},
        {"reasoning": f"the card is {CARD}"},
        {"thinking": f"the card is {CARD}"},
        {"refusal": f"not {CARD}"},
        {"anything_new": {"deep": [f"card {CARD}"]}},
        {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": CARD.replace(" ", "")}}]},
        {"tool_calls": [{"index": 0, "function": {"name": "pay", "arguments": {"card": CARD}}}]},
        {"content": "hi", f"key {CARD}": "value"},
    ],
)
def test_every_field_of_a_delta_is_masked(delta: dict[str, Any]) -> None:
    c = chunk()
    c["choices"][0]["delta"] = delta
    out = run(chunk_masker(), [c, chunk(finish="stop")])
    flat = str(out)
    assert CARD not in flat and CARD.replace(" ", "") not in flat
    assert "[CREDIT_CARD]" in flat


@pytest.mark.parametrize("field", ["reasoning_content", "content", "refusal"])
def test_when_a_value_is_split_over_deltas_of_any_field_then_it_is_masked(field: str) -> None:
    pieces = ["the card 41", "11 1111 11", "11 1111, ok"]
    out = run(chunk_masker(), [{**chunk(), "choices": [{"index": 0, "delta": {field: p}}]} for p in pieces])
    joined = "".join(e["choices"][0]["delta"].get(field, "") for e in out)
    assert joined == "the card [CREDIT_CARD], ok"


def test_tool_call_arguments_split_anywhere_are_masked_and_placed_back_on_their_call() -> None:
    args = '{"card": "4111 1111 1111 1111", "note": "ok"}'
    chunks = [
        {**chunk(), "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 1, "function": {"arguments": a}}]}}]}
        for a in (args[:20], args[20:])
    ]
    out = run(chunk_masker(), [*chunks, chunk(finish="tool_calls")])
    joined = "".join(
        call["function"].get("arguments", "")
        for e in out
        for call in e["choices"][0]["delta"].get("tool_calls", [])
        if call["index"] == 1
    )
    assert joined == '{"card": "[CREDIT_CARD]", "note": "ok"}'
    assert out[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_token_ids_and_logprobs_are_dropped_anywhere() -> None:
    c = chunk("Hi", token_ids=[1, 2], prompt_token_ids=[3])
    c["choices"][0]["logprobs"] = {"top_logprobs": [{"4111": -0.1}]}
    c["choices"][0]["token_ids"] = [4111, 1111]
    (out,) = chunk_masker().event(c)
    assert out["token_ids"] is None and out["prompt_token_ids"] is None
    assert out["choices"][0]["logprobs"] is None and out["choices"][0]["token_ids"] is None


@pytest.mark.parametrize("role", [[f"card {CARD}"], {"name": f"card {CARD}"}])
def test_when_a_delta_role_is_not_a_string_then_what_it_holds_is_masked(role: Any) -> None:
    c = chunk("Hi")
    c["choices"][0]["delta"]["role"] = role
    out = run(chunk_masker(), [c])
    assert CARD not in str(out)
    assert "[CREDIT_CARD]" in str([e["choices"][0]["delta"].get("role") for e in out])


# -- Responses events ---------------------------------------------------------------------------------------------


def responses_delta(kind: str, delta: str, item: str = "it_1") -> dict[str, Any]:
    return {"type": kind, "item_id": item, "output_index": 0, "content_index": 0, "delta": delta}


def run_responses(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    masker = ResponsesEventMasker(Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k", hold_words=False))
    out: list[dict[str, Any]] = []
    for event in events:
        out += masker.event(event)
    return out + masker.end()


@pytest.mark.parametrize(
    "kind",
    [
        "response.output_text.delta",
        "response.reasoning_summary_text.delta",
        "response.refusal.delta",
        "response.custom_tool_call_input.delta",
        "response.not_known_yet.delta",
    ],
)
@pytest.mark.parametrize("between", [[], [{"type": "response.in_progress"}], [{"type": "response.queued", "n": 1}]])
def test_a_value_split_over_deltas_of_any_type_is_masked_whatever_comes_between(
    kind: str, between: list[dict[str, Any]]
) -> None:
    events = [responses_delta(kind, "card 4111 11"), *between, responses_delta(kind, "11 1111 1111 ok")]
    out = run_responses([*events, {"type": "response.completed", "response": {"status": "completed"}}])
    assert "4111" not in str(out)
    assert "".join(e["delta"] for e in out if e["type"] == kind) == "card [CREDIT_CARD] ok"
    assert out[-1]["type"] == "response.completed"


def test_a_done_event_releases_its_channel_before_it_and_more_text_after_it_ends_the_stream() -> None:
    kind = "response.output_text.delta"
    done = {"type": "response.output_text.done", "item_id": "it_1", "output_index": 0, "content_index": 0}
    out = run_responses([responses_delta(kind, "total 12"), done])
    assert [e["type"] for e in out] == [kind, kind, "response.output_text.done"]
    assert out[1]["delta"] == "12"
    with pytest.raises(UpstreamProtocolError):
        run_responses([responses_delta(kind, "total 12"), done, responses_delta(kind, "34")])


def test_a_done_event_of_another_item_does_not_release_a_channel() -> None:
    kind = "response.output_text.delta"
    other_done = {"type": "response.output_text.done", "item_id": "it_2", "output_index": 1, "content_index": 0}
    out = run_responses([responses_delta(kind, "card 4111 1111"), other_done, responses_delta(kind, " 1111 1111")])
    assert "".join(e.get("delta", "") for e in out) == "card [CREDIT_CARD]"


# -- Ollama lines -------------------------------------------------------------------------------------------------


def run_ollama(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    masker = OllamaLineMasker(Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k", hold_words=False))
    out: list[dict[str, Any]] = []
    for line in lines:
        out += masker.event(line)
    return out + masker.end()


@pytest.mark.parametrize("key", ["content", "thinking", "brand_new"])
def test_every_string_of_an_ollama_message_is_a_channel(key: str) -> None:
    lines = [
        {"model": "m", "message": {"role": "assistant", key: p}, "done": False}
        for p in ("card 4111 11", "11 1111 1111 ok")
    ]
    out = run_ollama([*lines, {"model": "m", "done": True, "context": [4111, 1111]}])
    assert "4111" not in str(out)
    assert "".join(str((e.get("message") or {}).get(key, "")) for e in out) == "card [CREDIT_CARD] ok"
    assert out[-1]["done"] is True and out[-1]["context"] is None


def test_a_value_straddling_the_done_line_is_held_whole() -> None:
    out = run_ollama(
        [
            {"model": "m", "response": "card 4111 1111", "done": False},
            {"model": "m", "response": "", "done": True},
            {"model": "m", "response": " 1111 1111", "done": False},
        ]
    )
    assert "4111" not in str(out)
    assert "".join(e.get("response", "") for e in out) == "card [CREDIT_CARD]"
    assert out[-1]["done"] is True


def test_ollama_tool_calls_are_whole_and_masked() -> None:
    call = {"function": {"name": "pay", "arguments": {"card": CARD}}}
    (out,) = run_ollama(
        [{"model": "m", "message": {"role": "assistant", "content": "", "tool_calls": [call]}, "done": True}]
    )
    assert out["message"]["tool_calls"] == [{"function": {"name": "pay", "arguments": {"card": "[CREDIT_CARD]"}}}]


def test_when_a_choice_index_is_a_long_number_then_it_is_masked_on_the_content_only_path() -> None:
    first = chunk("Hello")
    first["choices"][0]["index"] = 4111111111111111
    out = run(chunk_masker(), [first, chunk(finish="stop")])
    assert "4111111111111111" not in str(out)


def test_a_spelled_out_value_split_word_by_word_is_masked_with_the_label_before_it() -> None:
    masker = OpenAiChunkMasker(Masker(MaskPlan({"US_SSN": "redact"}), SCANNER.scan, b"k", hold_words=False))
    text = "ssn five three six two two eight one seven four ok"
    out = run(masker, [chunk(w if i == 0 else " " + w) for i, w in enumerate(text.split())] + [chunk(finish="stop")])
    assert contents(out) == "ssn [US_SSN] ok"


@pytest.mark.parametrize(
    "second",
    [
        {"item": "it_2"},  # another id, same place: the openai SDK appends it to the same part
        {"output_index": 1},  # the same id, another place
    ],
)
def test_deltas_naming_one_output_item_two_ways_end_the_stream(second: dict[str, Any]) -> None:
    kind = "response.output_text.delta"
    moved = {**responses_delta(kind, "1111 1111", item=second.get("item", "it_1"))}
    moved["output_index"] = second.get("output_index", 0)
    with pytest.raises(UpstreamProtocolError):
        run_responses([responses_delta(kind, "card 4111 1111 "), moved])


def test_text_parts_of_one_message_may_share_its_id() -> None:
    kind = "response.output_text.delta"
    second = {**responses_delta(kind, "hello"), "content_index": 1}
    out = run_responses([responses_delta(kind, "hi "), second])
    assert "".join(e["delta"] for e in out) == "hi hello"


def test_a_value_split_across_text_parts_of_a_whole_answer_is_masked_at_the_join() -> None:
    masker = Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k")
    parts = [{"type": "output_text", "text": "card 4111 1111 "}, {"type": "output_text", "text": "1111 1111 ok"}]
    answer: dict[str, Any] = {"output": [{"type": "message", "id": "m1", "content": parts}]}
    out = mask_answer(masker, answer)
    joined = "".join(p["text"] for p in out["output"][0]["content"])
    assert "4111" not in joined and "1111 1111" not in joined
    assert joined.endswith(" ok")
    assert answer["output"][0]["content"][0]["text"] == "card 4111 1111 "  # the upstream's answer is not changed


@pytest.mark.parametrize("index", [4111111111111111, "4111111111111111"])
def test_a_tool_call_rebuilt_at_the_end_carries_its_index_as_the_caller_saw_it(index: Any) -> None:
    call = {"index": index, "id": "c", "type": "function", "function": {"name": "f", "arguments": '{"n": 12'}}
    first, second = chunk(), chunk()
    first["choices"][0]["delta"] = {"tool_calls": [call]}
    second["choices"][0]["delta"] = {"tool_calls": [{"index": index, "function": {"arguments": " }"}}]}
    out = run(chunk_masker(), [first, second])
    assert "4111111111111111" not in str(out)
    rebuilt = [c for e in out for c in e["choices"][0]["delta"].get("tool_calls") or []]
    assert len({str(c["index"]) for c in rebuilt}) == 1  # one call, under one (masked) index
    assert "".join(c["function"].get("arguments", "") for c in rebuilt) == '{"n": 12 }'


def text_part_events(first: str, second: str, *, done: bool = True) -> list[dict[str, Any]]:
    kind = "response.output_text.delta"
    events = [responses_delta(kind, first)]
    if done:
        events.append({"type": "response.output_text.done", "item_id": "it_1", "output_index": 0, "content_index": 0})
    return [*events, {**responses_delta(kind, second), "content_index": 1}]


@pytest.mark.parametrize("done", [True, False])
def test_a_value_split_across_output_text_parts_ends_the_stream_before_any_of_it_goes_out(done: bool) -> None:
    masker = ResponsesEventMasker(Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k", hold_words=False))
    sent: list[dict[str, Any]] = []
    with pytest.raises(UpstreamProtocolError):
        for event in text_part_events("card 4111 1111 ", "1111 1111 ok", done=done):
            sent += masker.event(event)
        sent += masker.end()
    assert "4111" not in str(sent)


def test_text_parts_that_join_into_no_value_go_out_in_order() -> None:
    out = run_responses(text_part_events("total 12", " items, thanks"))
    kinds = [e["type"] for e in out]
    assert kinds.index("response.output_text.done") < max(i for i, k in enumerate(kinds) if k.endswith(".delta"))
    assert "".join(e.get("delta", "") for e in out) == "total 12 items, thanks"


def name_masker() -> OpenAiChunkMasker:
    return OpenAiChunkMasker(Masker(MaskPlan({"PERSON": "redact"}), SCANNER.scan, b"k", hold_words=True))


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Hi Priya Patel, your refund is on its way.", "Priya Patel"),
        ("Thanks for waiting.\n\nBest regards,\nMaría José Ortega-López", "Ortega-López"),
        ('{"full_name": "Wei Zhang", "plan": "basic"}', "Wei Zhang"),
    ],
)
def test_when_a_name_is_split_over_content_chunks_then_it_is_held_back_and_masked(
    size: int, text: str, name: str
) -> None:
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    out = contents(run(name_masker(), [chunk(p) for p in pieces] + [chunk(finish="stop")]))
    assert "[PERSON]" in out
    assert all(part not in out for part in name.split())
    # No piece of the name went out before it was judged: however it was cut, the answer is the one the whole
    # text gets (a released first letter, "P[PERSON]", would differ), but that a name read in pieces may be
    # masked as one placeholder per word.
    whole = contents(run(name_masker(), [chunk(text), chunk(finish="stop")]))
    assert _one_placeholder_per_name(out) == _one_placeholder_per_name(whole)


def _one_placeholder_per_name(text: str) -> str:
    return re.sub(r"\[PERSON\](?:\s+\[PERSON\])+", "[PERSON]", text)
