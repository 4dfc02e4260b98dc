"""SSE and NDJSON parsing must not care where the upstream's reads split the bytes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.exceptions import UpstreamProtocolError
from clearance.proxy.framing import MAX_EVENT_BYTES, NdjsonParser, SseEvent, SseParser

STREAM = (
    b'data: {"a":1}\n\n'
    b'event: response.output_text.delta\ndata: {"b":2}\n\n'
    b": a comment\n\n"
    b"data: line one\ndata: line two\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    SseEvent(b'{"a":1}'),
    SseEvent(b'{"b":2}', "response.output_text.delta"),
    SseEvent(b"line one\nline two"),
    SseEvent(b"[DONE]"),
]


def feed_split(parser: SseParser | NdjsonParser, data: bytes, cuts: list[int]) -> list[SseEvent]:
    out: list[SseEvent] = []
    last = 0
    for cut in sorted(set(cuts)):
        out += parser.feed(data[last:cut])
        last = cut
    out += parser.feed(data[last:])
    return out + parser.close()


def test_every_single_split_point_gives_the_same_events() -> None:
    for cut in range(len(STREAM) + 1):
        assert feed_split(SseParser(), STREAM, [cut]) == EXPECTED


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=20), st.sampled_from([b"\n", b"\r\n", b"\r"]))
def test_any_splits_and_line_endings_give_the_same_events(cuts: list[int], newline: bytes) -> None:
    data = STREAM.replace(b"\n", newline)
    assert feed_split(SseParser(), data, [min(c, len(data)) for c in cuts]) == EXPECTED


def test_final_event_without_blank_line_still_counts() -> None:
    parser = SseParser()
    assert parser.feed(b'data: {"x":1}') == []
    assert parser.close() == [SseEvent(b'{"x":1}')]


def test_encode_round_trips() -> None:
    for event in EXPECTED:
        assert SseParser().feed(event.encode()) == [event]


@given(st.lists(st.integers(min_value=0, max_value=40), max_size=10))
def test_ndjson_lines_survive_any_split(cuts: list[int]) -> None:
    data = b'{"a":1}\n\n{"b":2}\r\n{"c":3}'
    events = feed_split(NdjsonParser(), data, [min(c, len(data)) for c in cuts])
    assert [e.data for e in events] == [b'{"a":1}', b'{"b":2}', b'{"c":3}']


@pytest.mark.parametrize("parser", [SseParser, NdjsonParser], ids=["sse", "ndjson"])
def test_an_event_that_never_ends_is_cut_off_not_buffered(parser: type[SseParser] | type[NdjsonParser]) -> None:
    p = parser()
    piece = b"data: " + b"x" * (1024 * 1024) if parser is SseParser else b"x" * (1024 * 1024)
    with pytest.raises(UpstreamProtocolError, match="larger than"):
        for _ in range(MAX_EVENT_BYTES // len(piece) + 2):
            p.feed(piece)
