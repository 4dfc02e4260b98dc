"""Bad input is a 4xx, never a 500 (and a broken upstream answer a 502, never a 500 or an empty 200).

Deep JSON -> 400 (request) or 502 (answer); a ``Content-Encoding`` that does not match the bytes -> 400, one the
gateway does not decode -> 415 (never forwarded unread), gzip and deflate decoded and inspected; a valid answer
with a huge integer is not "not JSON"; odd upstream shapes in Ollama translation -> 502
``upstream_protocol_error``; a streaming request answered with something that is not a stream ends with an error
event; the audit row's status is what the caller got. A bounded fuzz of mutated bodies must never get a 5xx.
"""

from __future__ import annotations

import gzip
import random
import zlib
from typing import Any

import orjson
import pytest

from tests.attacks.conftest import ATTACK_LOOP, OLLAMA_MODEL, OPENAI_MODEL, SSE_HEADERS, Attack, Script
from tests.attacks.harness import VISA, ServerError, assert_no_5xx, expect

pytestmark = ATTACK_LOOP

CHAT = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hello"}]}
SECRET_CHAT = orjson.dumps({"model": OPENAI_MODEL, "messages": [{"role": "user", "content": f"card {VISA.raw}"}]})


def nested(depth: int, leaf: Any = "x", kind: str = "list") -> Any:
    node = leaf
    for _ in range(depth):
        node = [node] if kind == "list" else {"a": node}
    return node


@pytest.mark.parametrize("kind", ["list", "object"])
@pytest.mark.parametrize("depth", [100, 500, 900, 1100, 5000])
async def test_deep_json_request_is_a_400(attack: Attack, depth: int, kind: str) -> None:
    inner = "[" * depth + '"x"' + "]" * depth if kind == "list" else '{"a":' * depth + '"x"' + "}" * depth
    raw = b'{"model": "fake-model", "messages": [{"role": "user", "content": "hi"}], "extra": ' + inner.encode() + b"}"
    reply = await attack.post("/v1/chat/completions", None, raw=raw)
    assert_no_5xx(reply.status, f"a request nested {depth} deep")
    expect(reply.status in (200, 400), f"a request nested {depth} deep got {reply.status}")
    if depth >= 500:
        expect(reply.status == 400, f"a request nested {depth} deep was accepted (no depth limit)")


@pytest.mark.parametrize("where", ["whole", "stream_event"])
@pytest.mark.parametrize("depth", [500, 900, 1000])
async def test_deep_json_answer_is_a_502(attack: Attack, depth: int, where: str) -> None:
    deep = "[" * depth + "1" + "]" * depth
    answer = ('{"id": "c", "object": "chat.completion", "choices": [], "extra": ' + deep + "}").encode()
    if where == "whole":
        attack.upstream.script = Script([answer])
        reply = await attack.post("/v1/chat/completions", CHAT)
        await attack.check([], allowed_5xx=(502,))
        expect(reply.status == 502, f"an answer nested {depth} deep got {reply.status}, not 502")
    else:
        attack.upstream.script = Script([b"data: " + answer + b"\n\n", b"data: [DONE]\n\n"], headers=SSE_HEADERS)
        reply = await attack.post("/v1/chat/completions", {**CHAT, "stream": True})
        await attack.check([], allowed_5xx=(502,))
        expect(
            reply.error_code() is not None, f"a stream event nested {depth} deep did not end the stream with an error"
        )


ENCODINGS: dict[str, tuple[bytes, str, int]] = {
    "gzip_header_plain_body": (orjson.dumps(CHAT), "gzip", 400),
    "deflate_header_plain_body": (orjson.dumps(CHAT), "deflate", 400),
    "br_header_plain_body": (orjson.dumps(CHAT), "br", 415),
    "gzip_header_deflate_body": (zlib.compress(orjson.dumps(CHAT)), "gzip", 400),
    "truncated_gzip": (gzip.compress(orjson.dumps(CHAT))[:-8], "gzip", 400),
    "zstd": (orjson.dumps(CHAT), "zstd", 415),
    "compress": (orjson.dumps(CHAT), "compress", 415),
    "unknown_token": (orjson.dumps(CHAT), "x-clearance-test", 415),
    "gzip_twice_declared_once": (gzip.compress(gzip.compress(orjson.dumps(CHAT))), "gzip", 400),
    "gzip_then_unknown": (gzip.compress(orjson.dumps(CHAT)), "gzip, x-custom", 415),
    "unknown_with_secret": (SECRET_CHAT, "x-custom", 415),
}


@pytest.mark.parametrize("case", ENCODINGS, ids=list(ENCODINGS))
async def test_content_encoding_mismatch_or_unknown(attack: Attack, case: str) -> None:
    raw, encoding, expected = ENCODINGS[case]
    reply = await attack.post("/v1/chat/completions", None, raw=raw, headers={"Content-Encoding": encoding})
    await attack.check([VISA])
    expect(reply.status == expected, f"Content-Encoding {encoding!r} ({case}) got {reply.status}, not {expected}")
    expect(not attack.upstream.received, f"a body with Content-Encoding {encoding!r} was forwarded")


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressed_body_is_decoded_and_inspected(attack: Attack, encoding: str) -> None:
    raw = gzip.compress(SECRET_CHAT) if encoding == "gzip" else zlib.compress(SECRET_CHAT)
    reply = await attack.post("/v1/chat/completions", None, raw=raw, headers={"Content-Encoding": encoding})
    await attack.check([VISA])
    expect(reply.status == 200, f"a {encoding} body was refused ({reply.status}); it should be decoded and inspected")


ANSWER_WITH = (
    '{"id":"c","object":"chat.completion","created":1,"model":"m",'
    '"choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]%s}'
)
"""A valid whole answer; ``%s`` adds top-level members."""


@pytest.mark.parametrize(
    "case",
    ["usage_tokens", "created", "in_text_field_list", "negative"],
)
async def test_valid_answer_with_a_huge_integer_is_not_refused(attack: Attack, case: str) -> None:
    huge = "1" + "0" * 400  # beyond a double: a parser that reads numbers as doubles fails here
    answers = {
        "usage_tokens": ANSWER_WITH % ',"usage":{"prompt_tokens":%s}',
        "created": ANSWER_WITH.replace('"created":1', '"created":%s') % ("%s", ""),
        "in_text_field_list": ANSWER_WITH % ',"x":[%s]',
        "negative": ANSWER_WITH % ',"x":-%s',
    }
    attack.upstream.script = Script([(answers[case] % huge).encode()])
    reply = await attack.post("/v1/chat/completions", CHAT)
    await attack.check([], allowed_5xx=(502,))
    expect(reply.status == 200, f"a valid JSON answer with a huge integer ({case}) got {reply.status}")


async def test_huge_integer_that_holds_a_card_is_masked(attack: Attack) -> None:
    attack.upstream.script = Script([(ANSWER_WITH % ',"x":%s' % VISA.raw).encode()])
    await attack.post("/v1/chat/completions", CHAT)
    await attack.check([VISA], allowed_5xx=(502,))


ODD_SHAPES: dict[str, Any] = {
    "choices_not_a_list": {"id": "c", "choices": {"0": 1}},
    "choices_null": {"id": "c", "choices": None},
    "choice_null": {"id": "c", "choices": [None]},
    "choice_a_string": {"id": "c", "choices": ["hello"]},
    "message_a_string": {"id": "c", "choices": [{"index": 0, "message": "hello"}]},
    "message_content_a_list": {
        "id": "c",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": [1, 2]}}],
    },
    "content_a_number": {"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "content": 5}}]},
    "usage_a_string": {
        "id": "c",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        "usage": "lots",
    },
    "no_choices": {"id": "c"},
    "tool_calls_a_string": {"id": "c", "choices": [{"index": 0, "message": {"role": "assistant", "tool_calls": "x"}}]},
    "answer_a_list": [1, 2, 3],
    "answer_a_string": "hello",
}


@pytest.mark.parametrize("path", ["/api/chat"])
@pytest.mark.parametrize("case", ODD_SHAPES, ids=list(ODD_SHAPES))
async def test_odd_upstream_shape_in_ollama_translation_is_a_502(attack: Attack, case: str, path: str) -> None:
    attack.upstream.script = Script([orjson.dumps(ODD_SHAPES[case])])
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}], "prompt": "hi", "stream": False}
    reply = await attack.post(path, body)
    await attack.check([], allowed_5xx=(502,))
    expect(
        reply.status == 502 and reply.error_code() == "upstream_protocol_error",
        f"an odd upstream shape ({case}) got {reply.status} {reply.error_code()}, not 502 upstream_protocol_error",
    )


@pytest.mark.parametrize("case", ["odd_chunk_choices", "chunk_a_list", "delta_a_string", "choices_null"])
async def test_odd_stream_shape_in_ollama_translation_ends_with_an_error(attack: Attack, case: str) -> None:
    events = {
        "odd_chunk_choices": {"id": "c", "choices": {"a": 1}},
        "chunk_a_list": [1, 2],
        "delta_a_string": {"id": "c", "choices": [{"index": 0, "delta": "hi"}]},
        "choices_null": {"id": "c", "choices": None},
    }
    attack.upstream.script = Script(
        [b"data: " + orjson.dumps(events[case]) + b"\n\n", b"data: [DONE]\n\n"], headers=SSE_HEADERS
    )
    reply = await attack.post("/api/chat", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}]})
    await attack.check([], allowed_5xx=(502,))
    expect(reply.status == 502 or reply.error_code() is not None, f"an odd stream event ({case}) was not reported")


NOT_A_STREAM: dict[str, tuple[bytes, dict[str, str]]] = {
    "plain_text": (b"hello, I am not a stream", {"Content-Type": "text/plain"}),
    "html": (b"<html><body>maintenance</body></html>", {"Content-Type": "text/html"}),
    "no_content_type": (b"hello", {}),
    "octet_stream": (b"\x00\x01\x02", {"Content-Type": "application/octet-stream"}),
    "empty_event_stream": (b"", {"Content-Type": "text/event-stream"}),
    "json_labelled_event_stream": (orjson.dumps({"id": "c", "choices": []}), {"Content-Type": "text/event-stream"}),
}


@pytest.mark.parametrize("path", ["/v1/chat/completions", "/api/chat"])
@pytest.mark.parametrize("case", NOT_A_STREAM, ids=list(NOT_A_STREAM))
async def test_stream_request_answered_with_no_stream_ends_with_an_error(attack: Attack, case: str, path: str) -> None:
    body_bytes, headers = NOT_A_STREAM[case]
    attack.upstream.script = Script([body_bytes] if body_bytes else [], headers=headers)
    body = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    reply = await attack.post(path, body)
    await attack.check([], allowed_5xx=(502,))
    expect(
        reply.status == 502 or reply.error_code() is not None,
        f"a streaming request answered with {case} got {reply.status} without an error event",
    )


AUDIT_STATUS: dict[str, tuple[str, bytes, dict[str, str]]] = {
    "deep_json": (
        "/v1/chat/completions",
        b'{"model": "fake-model", "x": '
        + b"[" * 950
        + b"]" * 950
        + b', "messages": [{"role": "user", "content": "hi"}]}',
        {},
    ),
    "invalid_json": ("/v1/chat/completions", b"{nope", {}),
    "bad_encoding": ("/v1/chat/completions", orjson.dumps(CHAT), {"Content-Encoding": "gzip"}),
    "unknown_model": ("/v1/chat/completions", orjson.dumps({**CHAT, "model": "nope"}), {}),
}


@pytest.mark.parametrize("case", AUDIT_STATUS, ids=list(AUDIT_STATUS))
async def test_audit_status_is_what_the_caller_got(attack: Attack, case: str) -> None:
    path, raw, headers = AUDIT_STATUS[case]
    reply = await attack.post(path, None, raw=raw, headers=headers)
    rows = await attack.records()
    assert_no_5xx(reply.status, case)
    expect(len(rows) == 1, f"{case}: {len(rows)} audit rows, not 1")
    expect(
        rows[0]["status"] == reply.status,
        f"{case}: the audit row says {rows[0]['status']}, the caller got {reply.status}",
    )


async def test_audit_status_for_an_odd_upstream_answer(attack: Attack) -> None:
    attack.upstream.script = Script([orjson.dumps(ODD_SHAPES["choice_null"])])
    reply = await attack.post(
        "/api/chat", {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False}
    )
    rows = await attack.records()
    expect(
        len(rows) == 1 and rows[0]["status"] == reply.status,
        f"audit status {[r['status'] for r in rows]} vs {reply.status}",
    )


ODD_REQUESTS: dict[str, bytes] = {
    "invalid_utf8": b'{"model": "fake-model", "messages": [{"role": "user", "content": "\xff\xfe"}]}',
    "lone_surrogate": b'{"model": "fake-model", "messages": [{"role": "user", "content": "\\ud800"}]}',
    "nan": b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "temperature": NaN}',
    "huge_number": b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "seed": 1'
    + b"0" * 400
    + b"}",
    "null_body": b"null",
    "list_body": b"[]",
    "duplicate_keys": b'{"model": "fake-model", "model": "other", "messages": [{"role": "user", "content": "x"}]}',
    "message_null": b'{"model": "fake-model", "messages": [null]}',
    "content_object": b'{"model": "fake-model", "messages": [{"role": "user", "content": {"a": 1}}]}',
    "content_part_null": b'{"model": "fake-model", "messages": [{"role": "user", "content": [null]}]}',
    "content_part_string": b'{"model": "fake-model", "messages": [{"role": "user", "content": ["x"]}]}',
    "tool_call_null": b'{"model": "fake-model", "messages": [{"role": "assistant", "tool_calls": [null]}]}',
    "arguments_object": b'{"model": "fake-model", "messages": [{"role": "assistant", "tool_calls": [{"id": "a", '
    b'"type": "function", "function": {"name": "f", "arguments": {"a": [1]}}}]}]}',
    "metadata_list": b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "metadata": [1]}',
    "stream_options_list": b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], '
    b'"stream": true, "stream_options": []}',
    "n_negative": b'{"model": "fake-model", "messages": [{"role": "user", "content": "x"}], "n": -1}',
    "model_object": b'{"model": {"a": 1}, "messages": [{"role": "user", "content": "x"}]}',
}


@pytest.mark.parametrize("case", ODD_REQUESTS, ids=list(ODD_REQUESTS))
async def test_odd_request_is_never_a_5xx(attack: Attack, case: str) -> None:
    await attack.post("/v1/chat/completions", None, raw=ODD_REQUESTS[case])
    await attack.check([])


FUZZ_CASES = 150


async def test_fuzz_mutated_bodies_never_get_a_5xx(attack: Attack) -> None:
    rng = random.Random(4040)
    seeds = [
        orjson.dumps({**CHAT, "stream": False}),
        orjson.dumps({"model": OPENAI_MODEL, "prompt": "hi"}),
        orjson.dumps({"model": OLLAMA_MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": False}),
    ]
    paths = ["/v1/chat/completions", "/v1/completions", "/api/chat", "/v1/responses", "/v1/embeddings"]
    failures = []
    for n in range(FUZZ_CASES):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 6)):
            op = rng.randrange(3)
            at = rng.randrange(len(data) or 1)
            if op == 0 and data:
                data[at] = rng.randrange(256)
            elif op == 1:
                data[at:at] = rng.choice([b"[", b"{", b'"', b"\\", b"\x00", b"1e999", b"-0", b",", b":", b"null"])
            elif data:
                del data[at]
        reply = await attack.post(rng.choice(paths), None, raw=bytes(data))
        if reply.status >= 500:
            failures.append(f"#{n}: {reply.status}")
    if failures:
        raise ServerError(f"{len(failures)} of {FUZZ_CASES} mutated bodies got a 5xx: {', '.join(failures[:10])}")
