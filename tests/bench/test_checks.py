"""Judging what reached each upstream, and the verdicts: a check passes only when everything sent was checked and
nothing failed."""

from __future__ import annotations

import orjson
import pytest

from bench.checks import Check, ReceivedReport, Tally, verdicts
from bench.figures import DIRECT, GATEWAY, PLAIN
from bench.sensitive import PROMPT_TOKEN, masking_chat_body

RAW = orjson.loads(masking_chat_body(False))


def _masked() -> dict[str, object]:
    text = orjson.dumps(RAW).decode()
    text = text.replace("4539 1488 0343 6467", "XXXX XXXX XXXX 6467").replace("536-22-1847", "XXX-XX-1847")
    out: dict[str, object] = orjson.loads(text.replace(PROMPT_TOKEN, "[GITHUB_TOKEN]"))
    return out


@pytest.mark.parametrize(
    ("headers", "body", "gateway_failed", "unmasked_failed"),
    [
        ({"X-Request-ID": "abc"}, _masked(), 0, 0),
        ({"x-request-id": "abc"}, RAW, 1, 0),  # the gateway forwarded a raw value
        ({"Content-Type": "application/json"}, RAW, 0, 0),  # direct: raw, as it should be
        ({"Content-Type": "application/json"}, _masked(), 0, 1),  # "direct" but masked: the check is broken
    ],
)
def test_when_a_request_reaches_the_upstream_then_it_is_judged_by_who_sent_it(
    headers: dict[str, str], body: object, gateway_failed: int, unmasked_failed: int
) -> None:
    report = ReceivedReport()
    report.check(headers, body)
    assert report.gateway.failed == gateway_failed
    assert report.unmasked.failed == unmasked_failed
    assert report.gateway.checked + report.unmasked.checked == 1
    for tally in (report.gateway, report.unmasked):
        assert tally.sample is None or PROMPT_TOKEN not in tally.sample


def test_when_reports_are_read_back_and_summed_then_counts_add_up() -> None:
    a = ReceivedReport.from_json({"gateway": {"checked": 3, "failed": 1, "sample": "x"}})
    a.add(ReceivedReport.from_json({"gateway": {"checked": 2}, "unmasked": {"checked": 5}}))
    assert (a.gateway.checked, a.gateway.failed, a.gateway.sample) == (5, 1, "x")
    assert a.unmasked.checked == 5


@pytest.mark.parametrize(
    ("tally", "expected", "passed"),
    [
        (Tally(10, 0), 10, True),
        (Tally(10, 1, "forbidden value #0 reached the caller"), 10, False),
        (Tally(9, 0), 10, False),  # one request was never checked
        (Tally(0, 0), 0, False),  # nothing checked proves nothing
    ],
)
def test_when_a_check_is_judged_then_it_passes_only_if_all_were_checked_and_none_failed(
    tally: Tally, expected: int, passed: bool
) -> None:
    check = Check("c", tally, expected)
    assert check.passed is passed
    assert check.describe().endswith("FAILED") is not passed


def test_when_verdicts_are_drawn_then_direct_and_plain_are_pooled_against_the_gateway() -> None:
    answers = {DIRECT: Tally(4, 0), PLAIN: Tally(6, 0), GATEWAY: Tally(5, 1, "forbidden value #2 reached the caller")}
    upstream = ReceivedReport(gateway=Tally(5, 0), unmasked=Tally(10, 0))
    checks = verdicts(answers, {DIRECT: 4, PLAIN: 6, GATEWAY: 5}, upstream)
    assert [c.passed for c in checks] == [False, True, True, True]
    assert checks[1].tally.checked == 10
