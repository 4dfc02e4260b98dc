"""Stream shapes: what an SSE frame carries besides its data never reaches the caller raw, and ``[DONE]`` goes out
after what the masker still holds."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from clearance.detect import Scanner
from clearance.mask.events import OllamaLineMasker, OpenAiChunkMasker, ResponsesEventMasker
from clearance.mask.masker import Masker
from clearance.models import MaskPlan, Usage
from clearance.proxy.framing import SseEvent, SseParser
from clearance.proxy.streams import OllamaNdjson, OpenAiSse, event_name

SCANNER = Scanner.from_config(None)
CARD = "4111 1111 1111 1111"


def masker() -> Masker:
    return Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k", hold_words=False)


def relay(shape: OpenAiSse, wire: bytes) -> bytes:
    parser = SseParser()
    out = b"".join(shape.item(e) for e in parser.feed(wire))
    out += b"".join(shape.item(e) for e in parser.close())
    return out + shape.end()


def chunk(content: str) -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": content}}]}
    return b"data: " + orjson.dumps(body) + b"\n\n"


def test_comments_ids_and_data_less_events_do_not_reach_the_caller() -> None:
    shape = OpenAiSse(OpenAiChunkMasker(masker()))
    wire = (
        f": card {CARD}\n".encode()
        + f"id: {CARD}\n".encode()
        + chunk("hello ")
        + f"event: {CARD}\n\n".encode()
        + f"retry: 4111111111111111\nid: {CARD}\n".encode()
        + chunk("there")
        + b"data: [DONE]\n\n"
    )
    out = relay(shape, wire)
    assert b"4111" not in out
    assert b"hello " in out and b"there" in out


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("response.output_text.delta", "response.output_text.delta"),
        (f"card {CARD}", "message"),
        ("x\ndata: {}", "message"),
        (4111111111111111, "message"),
        ("RESPONSE.4111", "message"),
    ],
)
def test_an_event_name_is_its_type_only_when_that_is_a_plain_dotted_name(kind: Any, name: str) -> None:
    assert event_name({"type": kind}) == name


def test_a_named_event_with_a_value_in_its_type_is_sent_under_a_plain_name() -> None:
    shape = OpenAiSse(ResponsesEventMasker(masker()))
    event = {"type": f"response.{CARD}.delta", "delta": "hi"}
    out = relay(shape, b"event: x\ndata: " + orjson.dumps(event) + b"\n\n")
    # (the data's own ``type`` is judged by extract.is_structural, as every structural field is)
    assert out.startswith(b"event: message\ndata: ")


def test_done_goes_out_after_what_is_held_and_a_value_straddling_it_is_still_masked() -> None:
    shape = OpenAiSse(OpenAiChunkMasker(masker()))
    out = relay(shape, chunk("card 4111 1111") + b"data: [DONE]\n\n" + chunk(" 1111 1111 ok"))
    assert b"4111" not in out
    assert b"[CREDIT_CARD]" in out
    assert out.endswith(b"data: [DONE]\n\n")
    assert out.count(b"[DONE]") == 1


def test_the_usage_a_stream_reports_is_kept_for_the_record_and_a_later_event_without_one_leaves_it() -> None:
    shape = OpenAiSse(OpenAiChunkMasker(masker()))
    usage = {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    final = {"id": "c", "object": "chat.completion.chunk", "choices": [], "usage": usage}
    relay(
        shape,
        chunk("hi") + b"data: " + orjson.dumps(final) + b"\n\n" + chunk("more").replace(b"{", b'{"usage":null,', 1),
    )
    assert shape.usage == Usage(3, 4, 7)


def test_an_ollama_stream_reports_its_eval_counts_as_usage() -> None:
    shape = OllamaNdjson(OllamaLineMasker(masker()))
    final = {"model": "m", "done": True, "prompt_eval_count": 5, "eval_count": 6}
    shape.item(SseEvent(orjson.dumps(final)))
    assert shape.usage == Usage(5, 6, 11)
