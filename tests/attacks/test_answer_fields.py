"""Answers: every field of every event, known or not, is inspected before it reaches the caller.

The upstream (scripted) puts a value in a reasoning or thinking field, a refusal, a tool name, a custom tool's
``input``, tool-call arguments given as an object, an extra message key, an unknown top-level key, an id, the
SSE ``event:`` / ``id:`` / comment lines, and Ollama's ``thinking`` and tool calls; whole and streamed. Token ids
(vLLM ``token_ids``, Ollama ``context``) spell the unmasked text and must be dropped. A bounded fuzz puts values
in random string fields of random answers, half of them streamed.
"""

from __future__ import annotations

import random
from typing import Any

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
    chunk,
    ndjson,
    sse,
)
from tests.attacks.harness import ALL_SECRETS, GITHUB_TOKEN, SSN, VISA, LeakError, assert_no_5xx, expect, find_leak

pytestmark = ATTACK_LOOP

CARD = VISA.raw
TOKEN = GITHUB_TOKEN.raw
SAY = f"the card is {CARD} ok"


def completion(message: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 1,
        "model": OPENAI_MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "ok", **message}, "finish_reason": "stop"}
        ],
        **top,
    }


def call(**function: Any) -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{}", **function}}


WHOLE: dict[str, dict[str, Any]] = {
    "reasoning_content": completion({"reasoning_content": SAY}),
    "reasoning": completion({"reasoning": SAY}),
    "thinking": completion({"thinking": SAY}),
    "refusal": completion({"refusal": SAY}),
    "tool_name": completion({"tool_calls": [call(name=f"pay_{CARD}")]}),
    "tool_arguments_object": completion({"tool_calls": [call(arguments={"card": CARD})]}),
    "tool_arguments_number": completion({"tool_calls": [call(arguments={"card": int(CARD)})]}),
    "custom_tool_input": completion(
        {"tool_calls": [{"id": "c", "type": "custom", "custom": {"name": "x", "input": SAY}}]}
    ),
    "tool_call_id": completion({"tool_calls": [{**call(), "id": TOKEN}]}),
    "extra_message_key": completion({"annotations": [{"type": "note", "text": SAY}]}),
    "message_key_named_by_value": completion({CARD: "x"}),
    "message_role": completion({"role": f"assistant {CARD}"}),
    "unknown_top_level_key": completion({}, debug={"echo": SAY}),
    "completion_id": completion({}, id=f"chatcmpl-{CARD}"),
    "system_fingerprint": completion({}, system_fingerprint=TOKEN),
    "model_field": completion({}, model=f"m-{CARD}"),
    "service_tier": completion({}, service_tier=SSN.raw),
    "finish_reason": {
        **completion({}),
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": SAY}],
    },
    "number_field": completion({}, usage={"prompt_tokens": int(CARD), "completion_tokens": 1, "total_tokens": 2}),
}


@pytest.mark.parametrize("case", WHOLE, ids=list(WHOLE))
async def test_whole_answer_field(attack: Attack, case: str) -> None:
    attack.upstream.script = Script([orjson.dumps(WHOLE[case])])
    await attack.post("/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}]})
    await attack.check([VISA, GITHUB_TOKEN, SSN], allowed_5xx=(502,))


STREAMED: dict[str, list[bytes]] = {
    "reasoning_content": sse(
        chunk(reasoning_content="the card is "), chunk(reasoning_content=f"{CARD} ok"), chunk(finish="stop")
    ),
    "reasoning": sse(chunk(reasoning=SAY), chunk(finish="stop")),
    "thinking": sse(chunk(thinking=SAY), chunk(finish="stop")),
    "refusal": sse(chunk(refusal="the card is 4111 1111 "), chunk(refusal="1111 1111 ok"), chunk(finish="stop")),
    "tool_name": sse(
        chunk(
            tool_calls=[
                {"index": 0, "id": "c1", "type": "function", "function": {"name": f"pay_{CARD}", "arguments": ""}}
            ]
        ),
        chunk(finish="tool_calls"),
    ),
    "tool_arguments_object": sse(
        chunk(
            tool_calls=[
                {"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": {"card": CARD}}}
            ]
        ),
        chunk(finish="tool_calls"),
    ),
    "custom_tool_input": sse(
        chunk(tool_calls=[{"index": 0, "id": "c1", "type": "custom", "custom": {"name": "x", "input": SAY}}]),
        chunk(finish="tool_calls"),
    ),
    "unknown_delta_key": sse(chunk(extra_text=SAY), chunk(finish="stop")),
    "unknown_chunk_key": sse({**chunk("hi"), "debug": SAY}, chunk(finish="stop")),
    "delta_role": sse(chunk("hi", role=f"assistant {CARD}"), chunk(finish="stop")),
    "chunk_id": sse({**chunk("hi"), "id": f"chatcmpl-{CARD}"}, chunk(finish="stop")),
    "logprobs_token": sse(
        {
            **chunk("hi"),
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": "hi"},
                    "logprobs": {"content": [{"token": CARD, "logprob": -1.0}]},
                    "finish_reason": None,
                }
            ],
        },
        chunk(finish="stop"),
    ),
    "sse_event_line": sse(f"event: {SAY}\ndata: ".encode() + orjson.dumps(chunk("hi")) + b"\n\n", chunk(finish="stop")),
    "sse_id_line": sse(f"id: {CARD}\ndata: ".encode() + orjson.dumps(chunk("hi")) + b"\n\n", chunk(finish="stop")),
    "sse_comment_line": sse(f": {SAY}\n\n".encode(), chunk("hi"), chunk(finish="stop")),
    "sse_retry_field": sse(
        f"retry: {CARD}\ndata: ".encode() + orjson.dumps(chunk("hi")) + b"\n\n", chunk(finish="stop")
    ),
    "sse_data_not_json": sse(f"data: {SAY}\n\n".encode(), chunk(finish="stop")),
    "vllm_token_ids": sse(
        {
            **chunk("hi"),
            "choices": [
                {"index": 0, "delta": {"content": "hi"}, "token_ids": [int(d) for d in CARD], "finish_reason": None}
            ],
        },
        chunk(finish="stop"),
    ),
    "usage_chunk_text": sse(chunk("hi"), {**chunk(finish="stop"), "usage": {"note": SAY}}),
}


@pytest.mark.parametrize("case", STREAMED, ids=list(STREAMED))
async def test_streamed_chat_field(attack: Attack, case: str) -> None:
    attack.upstream.script = Script(STREAMED[case], headers=SSE_HEADERS)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": True}
    await attack.post("/v1/chat/completions", body)
    await attack.check([VISA, GITHUB_TOKEN], allowed_5xx=(502,))


def rsp(kind: str, **fields: Any) -> bytes:
    return f"event: {kind}\ndata: ".encode() + orjson.dumps({"type": kind, **fields}) + b"\n\n"


RESPONSES: dict[str, list[bytes]] = {
    "reasoning_summary_delta": [
        rsp(
            "response.reasoning_summary_text.delta",
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            delta="the card is 4111 1111 ",
        ),
        rsp(
            "response.reasoning_summary_text.delta",
            item_id="rs_1",
            output_index=0,
            summary_index=0,
            delta="1111 1111 ok",
        ),
    ],
    "reasoning_text_delta": [
        rsp("response.reasoning_text.delta", item_id="rs_1", output_index=0, content_index=0, delta=SAY)
    ],
    "refusal_delta": [rsp("response.refusal.delta", item_id="m1", output_index=0, content_index=0, delta=SAY)],
    "refusal_done": [rsp("response.refusal.done", item_id="m1", output_index=0, content_index=0, refusal=SAY)],
    "function_call_arguments_delta": [
        rsp("response.function_call_arguments.delta", item_id="fc1", output_index=0, delta='{"card": "4111 1111 '),
        rsp("response.function_call_arguments.delta", item_id="fc1", output_index=0, delta='1111 1111"}'),
    ],
    "output_item_added_name": [
        rsp(
            "response.output_item.added",
            output_index=0,
            item={"type": "function_call", "id": "fc1", "call_id": "c", "name": f"pay_{CARD}", "arguments": ""},
        )
    ],
    "unknown_event_with_delta": [rsp("response.audio_transcript.delta", item_id="a1", delta=SAY)],
    "in_progress_with_text": [
        rsp("response.in_progress", response={"id": "r", "status": "in_progress", "instructions": SAY})
    ],
    "event_name_itself": [f"event: {SAY}\ndata: {{}}\n\n".encode()],
    "completed_output_text": [
        rsp(
            "response.completed",
            response={
                "id": "r",
                "status": "completed",
                "output": [{"type": "message", "content": [{"type": "output_text", "text": SAY}]}],
            },
        )
    ],
}


@pytest.mark.parametrize("case", RESPONSES, ids=list(RESPONSES))
async def test_streamed_responses_event(attack: Attack, case: str) -> None:
    created = rsp("response.created", response={"id": "r", "status": "in_progress", "output": []})
    attack.upstream.script = Script([created, *RESPONSES[case]], headers=SSE_HEADERS)
    await attack.post("/v1/responses", {"model": OPENAI_MODEL, "input": "go", "stream": True})
    await attack.check([VISA], allowed_5xx=(502,))


def olla(message: dict[str, Any], done: bool = False, **top: Any) -> dict[str, Any]:
    return {
        "model": OLLAMA_MODEL,
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": "", **message},
        "done": done,
        **top,
    }


OLLAMA: dict[str, list[bytes]] = {
    "thinking": ndjson(
        olla({"thinking": "the card is 4111 1111 "}), olla({"thinking": "1111 1111 ok"}), olla({}, done=True)
    ),
    "tool_call_arguments_object": ndjson(
        olla({"tool_calls": [{"function": {"name": "pay", "arguments": {"card": CARD}}}]}), olla({}, done=True)
    ),
    "tool_call_name": ndjson(
        olla({"tool_calls": [{"function": {"name": f"pay_{CARD}", "arguments": {}}}]}), olla({}, done=True)
    ),
    "unknown_key": ndjson(olla({"content": "hi"}, note=SAY), olla({}, done=True)),
    "images_field": ndjson(olla({"content": "hi", "images": [SAY]}), olla({}, done=True)),
    "final_context_token_ids": ndjson(olla({"content": "hi"}), olla({}, done=True, context=[int(d) for d in CARD])),
}


@pytest.mark.parametrize("case", OLLAMA, ids=list(OLLAMA))
async def test_streamed_ollama_field(attack: Attack, case: str) -> None:
    attack.upstream.script = Script(OLLAMA[case], headers=NDJSON_HEADERS)
    reply = await attack.post("/api/chat", {"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "go"}]})
    await attack.check([VISA], allowed_5xx=(502,))
    if case == "final_context_token_ids":
        context = [item.get("context") for item in reply.items() if isinstance(item, dict)]
        expect(not any(context), "Ollama's context (token ids of the unmasked text) reached the caller")


async def test_generate_context_is_dropped_from_whole_answers(attack: Attack) -> None:
    answer = {"model": OLLAMA_MODEL, "response": "hi", "done": True, "context": [int(d) for d in CARD]}
    attack.upstream.script = Script([orjson.dumps(answer)])
    reply = await attack.post("/api/generate", {"model": OLLAMA_MODEL, "prompt": "go", "stream": False})
    await attack.check([VISA], allowed_5xx=(502,))
    expect(not reply.json().get("context"), "Ollama's context (token ids) reached the caller")


async def test_vllm_token_ids_are_dropped_from_whole_answers(attack: Attack) -> None:
    answer = completion({}, prompt_token_ids=[int(d) for d in CARD])
    answer["choices"][0]["token_ids"] = [int(d) for d in CARD]
    attack.upstream.script = Script([orjson.dumps(answer)])
    reply = await attack.post(
        "/v1/chat/completions", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}]}
    )
    data = reply.json()
    expect(
        not data.get("prompt_token_ids") and not data["choices"][0].get("token_ids"),
        "vLLM token ids (which spell the unmasked text) reached the caller",
    )


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning", "refusal"])
async def test_reasoning_stream_through_the_openai_sdk(attack: Attack, field: str) -> None:
    pieces = ["the card is 4111 11", "11 1111 1111", " ok"]
    attack.upstream.script = Script(
        sse(*(chunk(**{field: p}) for p in pieces), chunk(finish="stop")), headers=SSE_HEADERS
    )
    async with openai.AsyncOpenAI(base_url=attack.gw.base_url, api_key="x", max_retries=0) as sdk:
        try:
            stream = await sdk.chat.completions.create(
                model=OPENAI_MODEL, messages=[{"role": "user", "content": "go"}], stream=True
            )
            async for event in stream:
                attack.saw(event.model_dump_json())
        except openai.APIStatusError as exc:
            attack.saw_error(exc)
    await attack.check([VISA], allowed_5xx=(502,))


# -- fuzz: values in random string fields of random answers ---------------------------------------------------

FUZZ_CASES = 120
_FIELDS = ("content", "reasoning_content", "note", "refusal", "thinking", "x_extra", "summary")


def _fuzz_answer(rng: random.Random, text: str) -> tuple[bool, list[bytes], dict[str, str]]:
    field = rng.choice(_FIELDS)
    if rng.random() < 0.5:
        at = rng.randrange(1, len(text))
        pieces = [text[:at], text[at:]]
        frames = sse(*(chunk(**{field: p}) for p in pieces), chunk(finish="stop"))
        return True, frames, SSE_HEADERS
    where = rng.randrange(5)
    message: dict[str, Any] = {field: text} if where == 0 else {}
    if where == 3:
        message["tool_calls"] = [call(name=text.replace(" ", "_"))]
    elif where == 4:
        message[text] = field
    top: dict[str, Any] = {field: text} if where == 1 else {}
    answer = completion(message, **top)
    if where == 2:
        answer["choices"][0][field] = {"nested": [text]}
    return False, [orjson.dumps(answer)], {"Content-Type": "application/json"}


async def test_fuzz_random_answers_leak_nothing(attack: Attack) -> None:
    rng = random.Random(2020)
    leaked: list[str] = []
    for n in range(FUZZ_CASES):
        secret = rng.choice(ALL_SECRETS)
        text = f"{rng.choice(('ok', 'Sure:', 'value'))} {secret.raw}{rng.choice(('', '.', '!', ' then'))}"
        stream, frames, headers = _fuzz_answer(rng, text)
        attack.upstream.script = Script(frames, headers=headers)
        attack.replies.clear()
        body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "go"}], "stream": stream}
        reply = await attack.post("/v1/chat/completions", body)
        assert_no_5xx(reply.status, f"fuzz case {n}", allowed=(502,))
        caller = next(p for p in await attack.places() if p.name == "the caller's answer")
        if find_leak(caller, secret) is not None:
            leaked.append(f"#{n} {secret.kind} {secret.shown} ({'streamed' if stream else 'whole'})")
    if leaked:
        raise LeakError(f"{len(leaked)} of {FUZZ_CASES} fuzzed answers leaked to the caller: {', '.join(leaked[:8])}")
