"""Red team, answer side: what a careless or hostile upstream sends back, beyond the shapes the suite already tries.

Each case is one attack: a streamed or whole answer scripted byte for byte (``ScriptedUpstream``), sent through the
gateway (raw HTTP, or the ``openai`` SDK where what the SDK hands its user is what counts), then the leak check
over every place. Classes: values spelled out word by word in a stream; values split across content parts or
items that a client joins (the SDK's ``output_text``); deltas of one output under changing item ids; numbers in
places the fast path passes (choice indexes); keys and number fields; SSE and NDJSON framing oddities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from tests.attacks.conftest import (
    ATTACK_LOOP,
    NDJSON_HEADERS,
    OLLAMA_MODEL,
    OPENAI_MODEL,
    SSE_HEADERS,
    Attack,
    Script,
    ScriptedUpstream,
    chunk,
    ndjson,
    sse,
    start_gateway,
)
from tests.attacks.harness import MASTERCARD, SSN, VISA, Place, assert_no_leak, spell

pytestmark = ATTACK_LOOP

CARD = VISA.raw
SPELLED = spell(CARD)


def rsp(kind: str, **fields: Any) -> bytes:
    return f"event: {kind}\ndata: ".encode() + orjson.dumps({"type": kind, **fields}) + b"\n\n"


def words(text: str) -> list[str]:
    """``text`` cut before every space: one word per event, as a model streams tokens."""
    out: list[str] = []
    for i, word in enumerate(text.split(" ")):
        out.append(word if i == 0 else " " + word)
    return out


def output_delta(text: str, *, item: str = "m1", output_index: int = 0, content_index: int = 0) -> bytes:
    return rsp(
        "response.output_text.delta",
        item_id=item,
        output_index=output_index,
        content_index=content_index,
        delta=text,
    )


CREATED = rsp("response.created", response={"id": "r", "status": "in_progress", "output": []})

CHAT_STREAMS: dict[str, list[bytes]] = {
    # a card spelled out, one word per event: each word alone is prose
    "spelled_card_word_per_event": sse(
        *(chunk(w) for w in words(f"the card is {SPELLED} thanks")), chunk(finish="stop")
    ),
    "spelled_card_two_events": sse(
        chunk(f"the card is {spell(CARD[:8])} "), chunk(f"{spell(CARD[8:])}."), chunk(finish="stop")
    ),
    "spelled_ssn_word_per_event": sse(*(chunk(w) for w in words(f"ssn {spell(SSN.raw)} ok")), chunk(finish="stop")),
    # a number in the choice index: the content-only fast path passes the chunk as it is
    "choice_index_card_number": sse(
        {**chunk("hi", index=int(CARD))}, chunk(" there", index=int(CARD)), chunk(finish="stop", index=int(CARD))
    ),
    "tool_call_index_card_number": sse(
        chunk(
            tool_calls=[{"index": int(CARD), "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]
        ),
        chunk(finish="tool_calls"),
    ),
    # a tool call's text held to the end is placed back on a call rebuilt from its (raw) index
    "tool_call_index_card_with_held_arguments": sse(
        chunk(
            tool_calls=[
                {
                    "index": int(CARD),
                    "id": "c",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"n": 12'},
                }
            ]
        ),
    ),
    "tool_call_index_string_card_with_held_arguments": sse(
        chunk(
            tool_calls=[{"index": CARD, "id": "c", "type": "function", "function": {"name": "f", "arguments": "12"}}]
        ),
    ),
    "created_float_card": sse({**chunk("hi"), "created": float(CARD)}, chunk(finish="stop")),
    "created_negative_card": sse({**chunk("hi"), "created": -int(CARD)}, chunk(finish="stop")),
    "system_fingerprint": sse({**chunk("hi"), "system_fingerprint": f"fp_{CARD}"}, chunk(finish="stop")),
    "finish_reason_value": sse(chunk("hi"), chunk(finish=f"stop {CARD}")),
    "choice_unknown_key": sse(
        {**chunk("hi"), "choices": [{"index": 0, "delta": {"content": "hi"}, CARD: 1, "finish_reason": None}]},
        chunk(finish="stop"),
    ),
    "sse_data_no_space_multiline": sse(
        b"data:"
        + orjson.dumps(chunk("card 4111 1111 "))[:40]
        + b"\ndata:"
        + orjson.dumps(chunk("card 4111 1111 "))[40:]
        + b"\n\n",
        chunk("1111 1111"),
        chunk(finish="stop"),
    ),
    "interleaved_choices": sse(
        chunk("card 4111 ", index=0),
        chunk("x", index=1),
        chunk("1111 ", index=0),
        chunk("y", index=1),
        chunk("1111 1111", index=0),
        chunk(finish="stop", index=1),
        chunk(finish="stop", index=0),
    ),
    "error_event_midstream": sse(chunk("hi"), {"error": {"message": f"bad {CARD}", "code": CARD}}),
    "usage_number_card": sse(chunk("hi"), {**chunk(finish="stop"), "usage": {"prompt_tokens": int(CARD)}}),
    "crlf_bom": [
        b"\xef\xbb\xbf" + b"data: " + orjson.dumps(chunk("card 4111 1111 ")) + b"\r\n\r\n",
        *sse(chunk("1111 1111"), chunk(finish="stop")),
    ],
    "html_entities_spaced": sse(*(chunk(f"&#{ord(c)}; ") for c in CARD), chunk(finish="stop")),
    "percent_per_event": sse(*(chunk(f"%{ord(c):02X}") for c in CARD), chunk(" ok"), chunk(finish="stop")),
}


@pytest.mark.parametrize("case", CHAT_STREAMS, ids=list(CHAT_STREAMS))
async def test_chat_stream(attack: Attack, case: str) -> None:
    attack.upstream.script = Script(CHAT_STREAMS[case], headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA, SSN], allowed_5xx=(502,))


def responses_answer(*texts: str, items: bool = False) -> dict[str, Any]:
    parts = [{"type": "output_text", "text": t, "annotations": []} for t in texts]
    output = (
        [{"type": "message", "id": f"m{i + 1}", "role": "assistant", "content": [p]} for i, p in enumerate(parts)]
        if items
        else [{"type": "message", "id": "m1", "role": "assistant", "content": parts}]
    )
    return {
        "id": "r",
        "object": "response",
        "created_at": 1,
        "model": OPENAI_MODEL,
        "status": "completed",
        "output": output,
    }


def message_added(item: str = "m1", output_index: int = 0, parts: int = 1) -> list[bytes]:
    """The events the SDK needs before text of a message item: the item, then each of its content parts."""
    added = rsp(
        "response.output_item.added",
        output_index=output_index,
        item={"type": "message", "id": item, "role": "assistant", "status": "in_progress", "content": []},
    )
    part = {"type": "output_text", "text": "", "annotations": []}
    return [
        added,
        *(
            rsp("response.content_part.added", item_id=item, output_index=output_index, content_index=i, part=part)
            for i in range(parts)
        ),
    ]


RESPONSES_STREAMS: dict[str, list[bytes]] = {
    # the SDK appends an output_text delta to output[output_index].content[content_index], whatever its item_id
    "item_id_changes_per_delta": [
        *message_added(),
        output_delta("card 4111 1111 ", item="m1"),
        output_delta("1111 1111", item="m2"),
    ],
    # the SDK's output_text joins every output_text part of every message item
    "text_across_content_parts": [
        *message_added(parts=2),
        output_delta("card 4111 1111 ", content_index=0),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=0, text="card 4111 1111 "),
        output_delta("1111 1111", content_index=1),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=1, text="1111 1111"),
    ],
    # the next part starts with spaces alone: released at once, they must not decide the join
    "text_across_parts_after_spaces": [
        *message_added(parts=2),
        output_delta("card 4111 1111 ", content_index=0),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=0, text="card 4111 1111 "),
        output_delta("  ", content_index=1),
        output_delta("1111 1111", content_index=1),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=1, text="  1111 1111"),
    ],
    # three parts, each join alone too short for a value
    "text_across_three_parts": [
        *message_added(parts=3),
        output_delta("card 4111 1111 ", content_index=0),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=0, text="card 4111 1111 "),
        output_delta("1111 ", content_index=1),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=1, text="1111 "),
        output_delta("1111", content_index=2),
        rsp("response.output_text.done", item_id="m1", output_index=0, content_index=2, text="1111"),
    ],
    "text_across_three_open_parts": [
        *message_added(parts=3),
        output_delta("card 4111 1111 ", content_index=0),
        output_delta("1111 ", content_index=1),
        output_delta("1111", content_index=2),
    ],
    "text_across_output_items": [
        *message_added(),
        *message_added("m2", 1),
        output_delta("card 4111 1111 ", item="m1", output_index=0),
        output_delta("1111 1111", item="m2", output_index=1),
    ],
}


RESPONSES_FINAL: dict[str, dict[str, Any]] = {
    "item_id_changes_per_delta": responses_answer("card 4111 1111 1111 1111"),
    "text_across_content_parts": responses_answer("card 4111 1111 ", "1111 1111"),
    "text_across_parts_after_spaces": responses_answer("card 4111 1111 ", "  1111 1111"),
    "text_across_three_parts": responses_answer("card 4111 1111 ", "1111 ", "1111"),
    "text_across_three_open_parts": responses_answer("card 4111 1111 ", "1111 ", "1111"),
    "text_across_output_items": responses_answer("card 4111 1111 ", "1111 1111", items=True),
}
"""The ``response.completed`` event's response: the whole output, as the stream spelled it."""


@pytest.mark.parametrize("case", RESPONSES_STREAMS, ids=list(RESPONSES_STREAMS))
async def test_responses_stream_through_the_sdk(attack: Attack, case: str) -> None:
    completed = rsp("response.completed", response=RESPONSES_FINAL[case])
    attack.upstream.script = Script([CREATED, *RESPONSES_STREAMS[case], completed], headers=SSE_HEADERS)
    await attack.post("/v1/responses", {"model": OPENAI_MODEL, "input": "go", "stream": True})
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            async with sdk.responses.stream(model=OPENAI_MODEL, input="go") as stream:
                async for event in stream:
                    attack.saw(event.model_dump_json(warnings=False))
                final = await stream.get_final_response()
                attack.saw(final.output_text)
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
        except openai.APIError as exc:  # an error event ending the stream: what it says counts too
            attack.saw(f"{exc.message}\n{exc.body}")
    await attack.check([VISA], allowed_5xx=(502,))


def chat_answer(message: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": OPENAI_MODEL,
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": "stop"}],
        **top,
    }


WHOLE: dict[str, tuple[str, dict[str, Any]]] = {
    "responses_parts_sdk_joins": ("/v1/responses", responses_answer("card 4111 1111 ", "1111 1111")),
    "responses_items_sdk_joins": ("/v1/responses", responses_answer("card 4111 1111 ", "1111 1111", items=True)),
    "chat_content_parts": (
        "/v1/chat/completions",
        chat_answer({"content": [{"type": "text", "text": "card 4111 1111 "}, {"type": "text", "text": "1111 1111"}]}),
    ),
    "chat_spelled_card": ("/v1/chat/completions", chat_answer({"content": f"card {SPELLED}"})),
    "chat_index_card": (
        "/v1/chat/completions",
        {
            **chat_answer({"content": "hi"}),
            "choices": [{"index": int(CARD), "message": {"role": "assistant", "content": "hi"}}],
        },
    ),
    "chat_float_created": ("/v1/chat/completions", {**chat_answer({"content": "hi"}), "created": float(CARD)}),
    "chat_key_card": ("/v1/chat/completions", chat_answer({"content": "hi", CARD: "x"})),
}


@pytest.mark.parametrize("case", WHOLE, ids=list(WHOLE))
async def test_whole_answer_through_the_sdk(attack: Attack, case: str) -> None:
    path, answer = WHOLE[case]
    attack.upstream.script = Script([orjson.dumps(answer)])
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            if path == "/v1/responses":
                response = await sdk.responses.create(model=OPENAI_MODEL, input="go")
                attack.saw(response.output_text)
            else:
                completion = await sdk.chat.completions.create(
                    model=OPENAI_MODEL, messages=[{"role": "user", "content": "go"}]
                )
                attack.saw(repr(completion))
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], allowed_5xx=(502,))


OLLAMA_STREAMS: dict[str, tuple[str, list[bytes]]] = {
    "spelled_card_words": (
        "/api/generate",
        ndjson(
            *({"model": OLLAMA_MODEL, "response": w, "done": False} for w in words(f"card {SPELLED} ok")),
            {"model": OLLAMA_MODEL, "response": "", "done": True},
        ),
    ),
    "two_objects_one_line": (
        "/api/generate",
        [
            orjson.dumps({"model": OLLAMA_MODEL, "response": "card 4111 1111 ", "done": False})
            + orjson.dumps({"model": OLLAMA_MODEL, "response": "1111 1111", "done": False})
            + b"\n",
            *ndjson({"model": OLLAMA_MODEL, "response": "", "done": True}),
        ],
    ),
    "done_line_with_text_then_more": (
        "/api/generate",
        ndjson(
            {"model": OLLAMA_MODEL, "response": "card 4111 1111 ", "done": True},
            {"model": OLLAMA_MODEL, "response": "1111 1111", "done": True},
        ),
    ),
}


@pytest.mark.parametrize("case", OLLAMA_STREAMS, ids=list(OLLAMA_STREAMS))
async def test_ollama_stream(attack: Attack, case: str) -> None:
    path, lines = OLLAMA_STREAMS[case]
    attack.upstream.script = Script(lines, headers=NDJSON_HEADERS)
    await attack.post(path, {"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "go"}], "prompt": "go"})
    await attack.check([VISA], allowed_5xx=(502,))


SPELLED_TYPE = "response." + ".".join(SPELLED.split())

MORE_CHAT_STREAMS: dict[str, list[bytes]] = {
    # content as a list of parts in a delta (some servers stream parts): one channel per part position
    "delta_content_parts": sse(
        chunk([{"type": "text", "text": "card 4111 1111 "}]),
        chunk([{"type": "text", "text": "1111 1111"}]),
        chunk(finish="stop"),
    ),
    "two_choices_same_index_one_event": sse(
        {
            **chunk("x"),
            "choices": [
                {"index": 0, "delta": {"content": "card 4111 1111 "}, "finish_reason": None},
                {"index": 0, "delta": {"content": "1111 1111"}, "finish_reason": None},
            ],
        },
        chunk(finish="stop"),
    ),
    "duplicate_content_keys": sse(
        b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,'
        b'"delta":{"content":"card 4111 1111 1111 1111","content":"hi"},"finish_reason":null}]}\n\n',
        chunk(finish="stop"),
    ),
    "spelled_in_finish_reason": sse(chunk("hi"), chunk(finish=SPELLED.replace(" ", "_"))),
    "spelled_in_object": sse({**chunk("hi"), "object": SPELLED.replace(" ", ".")}, chunk(finish="stop")),
    "spelled_reasoning_words": sse(
        *(chunk(reasoning_content=w) for w in words(f"the card is {SPELLED} ok")), chunk(finish="stop")
    ),
    "spelled_tool_arguments": sse(
        chunk(tool_calls=[{"index": 0, "id": "c", "type": "function", "function": {"name": "f", "arguments": ""}}]),
        *(chunk(tool_calls=[{"index": 0, "function": {"arguments": w}}]) for w in words(f'{{"card": "{SPELLED}"}}')),
        chunk(finish="tool_calls"),
    ),
}


@pytest.mark.parametrize("case", MORE_CHAT_STREAMS, ids=list(MORE_CHAT_STREAMS))
async def test_more_chat_streams(attack: Attack, case: str) -> None:
    attack.upstream.script = Script(MORE_CHAT_STREAMS[case], headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA], allowed_5xx=(502,))


MORE_RESPONSES: dict[str, list[bytes]] = {
    "spelled_event_type": [rsp(SPELLED_TYPE, item_id="m1")],
    "spelled_output_words": [*(output_delta(w) for w in words(f"card {SPELLED} ok"))],
    "annotation_url": [
        rsp(
            "response.output_text.annotation.added",
            item_id="m1",
            output_index=0,
            content_index=0,
            annotation_index=0,
            annotation={"type": "url_citation", "url": f"https://example.org/pay/{CARD}", "title": "t"},
        )
    ],
    "logprobs_in_delta": [
        rsp(
            "response.output_text.delta",
            item_id="m1",
            output_index=0,
            content_index=0,
            delta="hi",
            logprobs=[{"token": CARD, "logprob": -1.0, "bytes": list(CARD.encode())}],
        )
    ],
}


@pytest.mark.parametrize("case", MORE_RESPONSES, ids=list(MORE_RESPONSES))
async def test_more_responses_streams(attack: Attack, case: str) -> None:
    attack.upstream.script = Script([CREATED, *MORE_RESPONSES[case]], headers=SSE_HEADERS)
    await attack.post("/v1/responses", {"model": OPENAI_MODEL, "input": "go", "stream": True})
    await attack.check([VISA], allowed_5xx=(502,))


MORE_OLLAMA: dict[str, tuple[str, int, list[bytes], dict[str, str]]] = {
    "generate_whole_thinking_then_response": (
        "/api/generate",
        200,
        [orjson.dumps({"model": OLLAMA_MODEL, "thinking": "card 4111 1111 ", "response": "1111 1111", "done": True})],
        {"Content-Type": "application/json"},
    ),
    "chat_spelled_thinking_words": (
        "/api/chat",
        200,
        ndjson(
            *(
                {"model": OLLAMA_MODEL, "message": {"role": "assistant", "content": "", "thinking": w}, "done": False}
                for w in words(f"card {SPELLED} ok")
            ),
            {"model": OLLAMA_MODEL, "message": {"role": "assistant", "content": ""}, "done": True},
        ),
        NDJSON_HEADERS,
    ),
    "usage_counts_as_strings": (
        "/api/generate",
        200,
        ndjson(
            {"model": OLLAMA_MODEL, "response": "hi", "done": False},
            {"model": OLLAMA_MODEL, "response": "", "done": True, "prompt_eval_count": CARD, "eval_count": int(CARD)},
        ),
        NDJSON_HEADERS,
    ),
    "redirect_location": (
        "/api/generate",
        302,
        [b"{}"],
        {"Content-Type": "application/json", "Location": f"http://127.0.0.1:9/{CARD}"},
    ),
}


@pytest.mark.parametrize("case", MORE_OLLAMA, ids=list(MORE_OLLAMA))
async def test_more_ollama(attack: Attack, case: str) -> None:
    path, status, lines, headers = MORE_OLLAMA[case]
    attack.upstream.script = Script(lines, status=status, headers=headers)
    stream = headers == NDJSON_HEADERS
    body = {"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "go"}], "prompt": "go", "stream": stream}
    await attack.post(path, body)
    await attack.check([VISA], allowed_5xx=(502,))


async def test_ollama_endpoint_over_openai_upstream_spelled_words(attack: Attack) -> None:
    frames = sse(*(chunk(w) for w in words(f"the card is {SPELLED} ok")), chunk(finish="stop"))
    attack.upstream.script = Script(frames, headers=SSE_HEADERS)
    await attack.post("/api/chat", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}]})
    await attack.check([VISA], allowed_5xx=(502,))


KEYCAPS = " ".join(f"{d}\ufe0f\u20e3" for d in CARD)

DISGUISED_STREAMS: dict[str, list[bytes]] = {
    "keycap_digits_per_event": sse(*(chunk(w) for w in words(f"card {KEYCAPS} ok")), chunk(finish="stop")),
    "capitalised_spelled_words": sse(*(chunk(w) for w in words(f"Card {SPELLED.title()} ok")), chunk(finish="stop")),
    "spelled_words_with_commas": sse(
        *(chunk(w) for w in words("card " + ", ".join(SPELLED.split()) + ". Thanks")), chunk(finish="stop")
    ),
    "spelled_french_words": sse(
        *(chunk(w) for w in words("carte quatre un un un un un un un un un un un un un un un merci")),
        chunk(finish="stop"),
    ),
    "spelled_words_newline_each": sse(*(chunk(w + "\n") for w in SPELLED.split()), chunk(finish="stop")),
    "camel_case_spelled_tool_name": sse(
        chunk(
            tool_calls=[
                {
                    "index": 0,
                    "id": "c",
                    "type": "function",
                    "function": {"name": "pay" + SPELLED.title().replace(" ", ""), "arguments": "{}"},
                }
            ]
        ),
        chunk(finish="tool_calls"),
    ),
    "utf16_event": [("data: " + orjson.dumps(chunk(f"card {CARD}")).decode() + "\n\n").encode("utf-16"), b""],
}


@pytest.mark.parametrize("case", DISGUISED_STREAMS, ids=list(DISGUISED_STREAMS))
async def test_disguised_values_in_streams(attack: Attack, case: str) -> None:
    attack.upstream.script = Script(DISGUISED_STREAMS[case], headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA], allowed_5xx=(502,))


DASHED = SPELLED.replace(" ", "-")

FAST_PATH_FIELDS: dict[str, dict[str, Any]] = {
    "id_spelled": {"id": f"chatcmpl-{DASHED}"},
    "model_spelled": {"model": f"m-{DASHED}"},
    "fingerprint_spelled": {"system_fingerprint": f"fp_{DASHED}"},
    "object_spelled": {"object": DASHED},
    "created_string": {"created": SPELLED},
    "service_tier_spelled": {"service_tier": DASHED},
}


@pytest.mark.parametrize("case", FAST_PATH_FIELDS, ids=list(FAST_PATH_FIELDS))
async def test_fields_of_content_only_chunks(attack: Attack, case: str) -> None:
    fields = FAST_PATH_FIELDS[case]
    frames = sse({**chunk("hi"), **fields}, {**chunk(" there"), **fields}, chunk(finish="stop"))
    attack.upstream.script = Script(frames, headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA], allowed_5xx=(502,))


RESTORING_POLICY = """
version: 1
clearances:
  - anonymous: true
    level: internal
models:
  - name: fake-model
    max_level: restricted
rules:
  - id: placeholders
    when: {}
    action: mask
    mask:
      operators: {CREDIT_CARD: placeholder, EMAIL_ADDRESS: placeholder}
      restore: true
"""


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_restoring_caller_gets_back_only_its_own_originals(
    upstream: ScriptedUpstream, tmp_path: Path, stream: bool
) -> None:
    """A caller allowed to see the originals of its placeholders gets those back, not any value of their types: a
    card the model brings from elsewhere (its training data, a document the upstream retrieved) is masked."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(RESTORING_POLICY)
    gateway = await start_gateway(upstream, tmp_path / "audit.db", policy={"file": str(policy)})
    try:
        upstream.reset()
        answer = f"Your card <CREDIT_CARD_1> is fine; the other one is {CARD}."
        if stream:
            upstream.script = Script(sse(*(chunk(w) for w in words(answer)), chunk(finish="stop")), headers=SSE_HEADERS)
        else:
            upstream.script = Script([orjson.dumps(chat_answer({"content": answer}))])
        own = MASTERCARD.raw
        body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": f"is {own} ok?"}], "stream": stream}
        async with (
            aiohttp.ClientSession() as session,
            session.post(gateway.url + "/v1/chat/completions", json=body) as r,
        ):
            text = await r.text()
        assert own in text, "the caller's own card should come back restored"
        assert_no_leak([Place("the caller's answer", text)], [VISA])
    finally:
        upstream.reset()
        await gateway.server.close()


ODD_ANSWERS: dict[str, tuple[str, Script, bool]] = {
    "completions_spelled_words": (
        "/v1/completions",
        Script(
            sse(
                *(
                    {
                        "id": "c",
                        "object": "text_completion",
                        "created": 1,
                        "model": OPENAI_MODEL,
                        "choices": [{"index": 0, "text": w, "finish_reason": None}],
                    }
                    for w in words(f"card {SPELLED} ok")
                )
            ),
            headers=SSE_HEADERS,
        ),
        True,
    ),
    "error_text_plain_spelled": (
        "/v1/chat/completions",
        Script([f"upstream failed for card {SPELLED}".encode()], status=400, headers={"Content-Type": "text/plain"}),
        False,
    ),
    "error_event_spelled": (
        "/v1/chat/completions",
        Script(
            sse(
                chunk("hi"), b"event: error\ndata: " + orjson.dumps({"error": {"message": f"card {SPELLED}"}}) + b"\n\n"
            ),
            headers=SSE_HEADERS,
        ),
        True,
    ),
    "ollama_whole_chat_spelled": (
        "/api/chat",
        Script(
            [orjson.dumps({"model": OLLAMA_MODEL, "message": {"role": "assistant", "content": SPELLED}, "done": True})]
        ),
        False,
    ),
    "content_then_tool_arguments": (
        "/v1/chat/completions",
        Script(
            [
                orjson.dumps(
                    chat_answer(
                        {
                            "content": "card 4111 1111 ",
                            "tool_calls": [
                                {"id": "c", "type": "function", "function": {"name": "f", "arguments": "1111 1111"}}
                            ],
                        }
                    )
                )
            ]
        ),
        False,
    ),
}


@pytest.mark.parametrize("case", ODD_ANSWERS, ids=list(ODD_ANSWERS))
async def test_odd_answers(attack: Attack, case: str) -> None:
    path, script, stream = ODD_ANSWERS[case]
    attack.upstream.script = script
    model = OLLAMA_MODEL if path.startswith("/api") else OPENAI_MODEL
    body = {"model": model, "messages": [{"role": "user", "content": "go"}], "prompt": "go", "stream": stream}
    await attack.post(path, body)
    await attack.check([VISA], allowed_5xx=(502,))
