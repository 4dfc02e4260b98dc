"""The load generator: its requests, how it judges answers, and its bounds in count and time."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest

from bench.loadgen import Command, answer_problem, answer_text, chat_body, drive
from clearance.testing.fake_upstream import FakeUpstream, FakeUpstreamBehaviour


@pytest.mark.parametrize("stream", [False, True])
def test_when_a_chat_body_is_built_then_it_is_a_2_kb_chat_request(stream: bool) -> None:
    body = chat_body(stream)
    assert len(body) == 2048
    data = orjson.loads(body)
    assert [m["role"] for m in data["messages"]] == ["system", "user"]
    assert data.get("stream", False) is stream
    assert (data.get("stream_options") == {"include_usage": True}) is stream


@pytest.mark.parametrize(
    ("status", "body", "stream", "problem"),
    [
        (200, b'{"choices": []}', False, None),
        (200, b"data: {}\n\ndata: [DONE]\n\n", True, None),
        (200, b"data: {}\n\n", True, "the stream did not end with [DONE]"),
        (200, b"{}", False, "the answer has no choices"),
        (502, b'{"error": {}}', False, "HTTP 502"),
    ],
)
def test_when_an_answer_arrives_then_only_a_complete_success_passes(
    status: int, body: bytes, stream: bool, problem: str | None
) -> None:
    found = answer_problem(status, body, stream)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem)


@pytest.mark.parametrize("stream", [False, True])
async def test_when_the_request_budget_runs_out_then_the_load_stops_at_that_count(stream: bool) -> None:
    async with FakeUpstream() as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        outcome = await drive(session, Command(url=url, stream=stream, concurrency=4, requests=30, seconds=30.0))
    assert outcome.completed == 30
    assert outcome.errors == 0
    assert len(outcome.latencies_ms) == 30
    assert len(upstream.received) == 30


async def test_when_time_runs_out_then_the_load_stops_before_its_request_budget() -> None:
    behaviour = FakeUpstreamBehaviour(first_byte_delay_s=0.05)
    async with FakeUpstream(behaviour=behaviour) as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        command = Command(url=url, stream=False, concurrency=2, requests=10_000, seconds=0.3)
        outcome = await asyncio.wait_for(drive(session, command), timeout=30)
    assert 0 < outcome.completed < 100  # 2 workers, each request 50 ms: at most ~12 in 0.3 s
    assert min(outcome.latencies_ms) >= 50.0


async def test_when_the_target_fails_then_errors_are_counted_with_a_sample() -> None:
    behaviour = FakeUpstreamBehaviour(error_status=503)
    async with FakeUpstream(behaviour=behaviour) as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        outcome = await drive(session, Command(url=url, stream=False, concurrency=1, requests=3, seconds=10.0))
    assert outcome.completed == 0
    assert outcome.errors == 3
    assert outcome.error_sample is not None and outcome.error_sample.startswith("HTTP 503")


@pytest.mark.parametrize(
    ("body", "stream", "text"),
    [
        (b'{"choices": [{"message": {"role": "assistant", "content": "Hi there"}}]}', False, "Hi there"),
        (
            b'data: {"choices": [{"index": 0, "delta": {"content": "Hi th"}}]}\n\n'
            b'data: {"choices": [{"index": 0, "delta": {}}]}\n\n'
            b'data: {"choices": [], "usage": {}}\n\n'
            b'data: {"choices": [{"index": 0, "delta": {"content": "ere"}}]}\n\ndata: [DONE]\n\n',
            True,
            "Hi there",
        ),
    ],
)
def test_when_an_answer_is_read_then_its_text_is_the_content_a_caller_sees(
    body: bytes, stream: bool, text: str
) -> None:
    assert answer_text(body, stream) == text


@pytest.mark.parametrize("stream", [False, True])
async def test_when_a_value_the_caller_must_not_see_arrives_then_the_answer_fails_without_naming_it(
    stream: bool,
) -> None:
    secret = "4539 1488 0343 6467"
    behaviour = FakeUpstreamBehaviour(pieces=["card 4539 14", "88 0343 6467 ok"])  # split across two events
    async with FakeUpstream(behaviour=behaviour) as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        command = Command(url, stream, 1, 2, 10.0, forbidden=[secret])
        outcome = await drive(session, command)
        allowed = await drive(session, Command(url, stream, 1, 2, 10.0, required=["ok"], forbidden=["nothing"]))
    assert (outcome.completed, outcome.errors) == (0, 2)
    assert outcome.error_sample == "forbidden value #0 reached the caller"
    assert (allowed.completed, allowed.errors) == (2, 0)


async def test_when_a_stream_is_timed_then_first_event_and_first_text_are_told_apart() -> None:
    # the first event carries no text (as when a masker holds a token back), the second does
    behaviour = FakeUpstreamBehaviour(pieces=["", "Hello", " world"], first_byte_delay_s=0.04, event_delay_s=0.03)
    async with FakeUpstream(behaviour=behaviour) as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        outcome = await drive(session, Command(url, True, 1, 2, 10.0, ttft=True))
    assert outcome.completed == 2
    for first_event, first_text in zip(outcome.first_event_ms, outcome.ttft_ms, strict=True):
        assert first_event >= 70.0  # 40 ms to the headers, 30 ms to the first event
        assert first_text - first_event >= 25.0  # one more event gap to the first text


async def test_when_workers_are_staggered_then_the_last_starts_that_much_later(sleeps: list[float]) -> None:
    async with FakeUpstream() as upstream, aiohttp.ClientSession() as session:
        url = upstream.base_url + "/chat/completions"
        outcome = await drive(session, Command(url, False, 3, 3, 10.0, stagger_s=0.1))
    assert outcome.completed == 3
    assert sleeps[:3] == [0.0, 0.1, 0.2]
