"""The benchmark's upstream double: its pacing, its sensitive answer, and the report of what it received."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
import pytest

from bench.checks import ReceivedReport
from bench.sensitive import ANSWER, masking_chat_body
from bench.upstream_double import behaviour, write_report
from clearance.testing.fake_upstream import FakeUpstream


@pytest.mark.parametrize(("first_token_ms", "event_ms", "first_byte_s"), [(100, 10, 0.09), (5, 10, 0.0), (0, 0, 0.0)])
def test_when_pacing_is_asked_then_the_first_event_leaves_at_the_first_token_time(
    first_token_ms: float, event_ms: float, first_byte_s: float
) -> None:
    b = behaviour(60, True, first_token_ms, event_ms)
    assert b.first_byte_delay_s == pytest.approx(first_byte_s)
    assert b.event_delay_s == pytest.approx(event_ms / 1000)
    assert b.models == ("bench-model",)


async def test_when_the_sensitive_double_streams_then_its_first_event_comes_on_time_and_carries_the_answer(
    sleeps: list[float],
) -> None:
    url_path = "/chat/completions"
    async with (
        FakeUpstream(behaviour=behaviour(60, True, 60, 5)) as upstream,
        aiohttp.ClientSession() as session,
        session.post(upstream.base_url + url_path, data=masking_chat_body(True)) as response,
    ):
        first = await response.content.readline()
        before_first = list(sleeps)
        rest = await response.read()
    # The waits asked before the first event left: to the headers, then one event gap (55 + 5 ms).
    assert before_first[:2] == pytest.approx([0.055, 0.005])
    events = [orjson.loads(line[6:]) for line in (first + rest).split(b"\n") if line.startswith(b"data: {")]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert text.startswith(ANSWER)


def test_when_the_report_is_written_then_it_reads_back_whole(tmp_path: Path) -> None:
    report = ReceivedReport()
    report.check({"X-Request-ID": "r1"}, orjson.loads(masking_chat_body(False)))  # raw from "the gateway"
    path = tmp_path / "up.json"
    write_report(path, report)
    back = ReceivedReport.from_json(orjson.loads(path.read_bytes()))
    assert (back.gateway.checked, back.gateway.failed) == (1, 1)
    assert not path.with_suffix(".tmp").exists()
