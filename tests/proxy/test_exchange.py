"""``Exchange``: each stage hands it what it returned, and the audit record is built from that once, frozen, when
the exchange ends; what was masked in the request and in the answer is counted apart."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from clearance.detect import Scanner
from clearance.enforce.inspector import Inspection
from clearance.exceptions import PermissionDenied, UpstreamTimeout
from clearance.mask.masker import Masker
from clearance.models import Decision, Identity, MaskPlan, Usage
from clearance.proxy.exchange import MAX_TOKEN_COUNT, UNKNOWN_MODEL, Exchange, usage_of

SCANNER = Scanner.from_config(None)
CARD = "4111 1111 1111 1111"
PLAN = MaskPlan({"CREDIT_CARD": "redact"})


def exchange() -> Exchange:
    return Exchange(make_mocked_request("POST", "/v1/chat/completions"), "chat.completions")


def inspection(action: str = "mask") -> Inspection:
    masker = Masker(PLAN, SCANNER.scan, b"k")
    body = {"messages": [{"role": "user", "content": masker.mask(f"card {CARD}")}]}
    decision = Decision(action, "r1", ("restricted_type",), "restricted", PLAN, {"CREDIT_CARD": 1}, record="masked")  # type: ignore[arg-type]
    return Inspection(decision, body, masker, dict(masker.request_counts))


def test_when_the_exchange_ends_then_its_record_holds_what_each_stage_returned_and_is_frozen() -> None:
    ex = exchange()
    ex.identify(Identity("alice", groups=("eng",)))
    ex.received(120)
    ex.routed("m", "up", stream=False)
    ex.declared("internal")
    ex.decide(ex_inspection := inspection())
    ex.used(Usage(1, 2, 3))
    ex.respond(web.Response(body=b"{}", status=200))
    record = ex.finish()
    assert (record.subject, record.bytes_in, record.bytes_out, record.status, record.error_code) == (
        "alice", 120, 2, 200, None,
    )  # fmt: skip
    assert (record.model, record.upstream, record.stream, record.declared_label) == ("m", "up", False, "internal")
    assert (record.decision, record.rule, record.reasons, record.level, record.record_mode) == (
        "mask", "r1", ("restricted_type",), "restricted", "masked",
    )  # fmt: skip
    assert record.findings == {"CREDIT_CARD": 1} and record.masked_request == {"CREDIT_CARD": 1}
    assert record.masked_response == {} and record.usage == Usage(1, 2, 3)
    assert ex.headers["X-Clearance-Masked"] == "CREDIT_CARD=1" and ex_inspection.masked == {"CREDIT_CARD": 1}
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = 500  # type: ignore[misc]


def test_when_the_answer_is_masked_then_its_counts_are_kept_apart_from_the_requests() -> None:
    ex = exchange()
    ex.decide(found := inspection())
    found.masker.outgoing(f"yes {CARD} and again {CARD}")
    record = ex.finish()
    assert record.masked_request == {"CREDIT_CARD": 1}
    assert record.masked_response == {"CREDIT_CARD": 2}


def test_when_a_refusal_ends_the_exchange_then_its_status_code_and_decision_are_recorded() -> None:
    ex = exchange()
    ex.decide(inspection("block"))
    response = ex.refuse(PermissionDenied("no"))
    record = ex.finish()
    assert response.status == record.status == 403
    assert record.error_code == "blocked_by_policy" and record.decision == "block"
    assert record.masked_response == {}


def test_when_a_stream_fails_after_its_headers_went_out_then_the_status_the_caller_got_is_kept() -> None:
    ex = exchange()
    ex.started(200)
    ex.sent(42)
    ex.fail(UpstreamTimeout("slow"))
    record = ex.finish()
    assert (record.status, record.error_code, record.bytes_out) == (200, "upstream_timeout", 42)


def test_when_the_caller_goes_away_then_the_record_says_so() -> None:
    ex = exchange()
    ex.started(200)
    ex.disconnected()
    record = ex.finish()
    assert (record.status, record.error_code) == (499, "client_disconnected")


def test_when_no_route_matched_then_the_model_is_recorded_as_unknown_and_nothing_else_is_made_up() -> None:
    ex = exchange()
    ex.routed(UNKNOWN_MODEL)
    record = ex.finish()
    assert (record.model, record.upstream, record.stream, record.decision) == (UNKNOWN_MODEL, None, False, None)
    assert record.findings == {} and record.masked_request == {} and record.masked_response == {}
    assert record.subject is None and record.request_id == ex.request_id


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, Usage(1, 2, 3)),
        ({"prompt_tokens": "1", "completion_tokens": 2.0, "total_tokens": True}, Usage()),
        ({"total_tokens": MAX_TOKEN_COUNT + 1}, Usage()),
        (None, None),
        ([1, 2], None),
    ],
)
def test_usage_is_read_only_from_plausible_integers(usage: object, expected: Usage | None) -> None:
    assert usage_of(usage) == expected


def test_a_usage_the_upstream_did_not_report_leaves_the_one_it_did() -> None:
    ex = exchange()
    ex.used(Usage(1, 2, 3))
    ex.used(None)
    assert ex.finish().usage == Usage(1, 2, 3)


def test_when_a_request_asked_for_or_used_an_approval_then_its_record_and_headers_carry_the_id() -> None:
    ex = exchange()
    ex.decide(inspection("require_approval"))

    ex.approval("abc123")

    assert ex.headers["X-Clearance-Approval"] == "abc123"
    assert ex.finish().approval_id == "abc123"
    assert exchange().finish().approval_id is None
