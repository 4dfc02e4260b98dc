"""``Exchange``: each stage hands it what it returned, and the audit record is built from that once, frozen, when
the exchange ends; what was masked in the request and in the answer is counted apart."""

from __future__ import annotations

import dataclasses
import typing

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from clearance.audit.envelope import Keyring
from clearance.audit.originals import Originals, envelope_sha256, open_originals
from clearance.detect import Scanner
from clearance.enforce.inspector import Inspection, Inspector
from clearance.exceptions import PermissionDenied, UpstreamTimeout
from clearance.mask.masker import Masker
from clearance.models import Decision, FindingPosition, Identity, MaskPlan, RecordMode, Usage
from clearance.proxy.exchange import (
    MAX_TOKEN_COUNT,
    MAX_USER_AGENT,
    MAX_USER_AGENT_SCAN,
    OVERLONG_USER_AGENT,
    UNKNOWN_MODEL,
    Exchange,
    Recording,
    ollama_usage,
    recordable_user_agent,
    usage_of,
)
from tests.audit.test_envelope import keyring

SCANNER = Scanner.from_config(None)
CARD = "4111 1111 1111 1111"
PLAN = MaskPlan({"CREDIT_CARD": "redact"})


def exchange() -> Exchange:
    return Exchange(make_mocked_request("POST", "/v1/chat/completions"), "chat.completions")


EMAIL = "jane.roe@corp-mail.io"
INSPECTOR = Inspector(
    scan=SCANNER.scan,
    classify=lambda _c: "public",
    decide=lambda _f: Decision("allow", "r", ("x",), "public"),
    hash_key=b"k",
)
RECORDING = Recording(
    instance="gw-1",
    detector_version="d" * 64,
    redact=INSPECTOR.redact,
    redact_document=INSPECTOR.redact_document,
    redact_answer=INSPECTOR.redact_answer,
)


def recorded(mode: RecordMode = "masked", recording: Recording = RECORDING, user_agent: str | None = None) -> Exchange:
    """An exchange whose gateway keeps text, decided under record mode ``mode``."""
    headers = {"User-Agent": user_agent} if user_agent is not None else {}
    ex = Exchange(
        make_mocked_request("POST", "/v1/chat/completions", headers=headers), "chat.completions", None, recording
    )
    ex.decide(inspection(record=mode))
    return ex


def inspection(action: str = "mask", *, record: RecordMode = "masked") -> Inspection:
    masker = Masker(PLAN, SCANNER.scan, b"k")
    body = {"messages": [{"role": "user", "content": masker.mask(f"card {CARD}")}]}
    counts = {"CREDIT_CARD": 1}
    decision = Decision(action, "r1", ("restricted_type",), "restricted", PLAN, counts, record=record)  # type: ignore[arg-type]
    decision = dataclasses.replace(decision, policy_version="p" * 64)
    positions = (FindingPosition("CREDIT_CARD", ("messages", 0, "content"), 5, 18),)
    return Inspection(decision, body, masker, dict(masker.request_counts), positions=positions)


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
        ({"input_tokens": 4, "output_tokens": 5, "total_tokens": 9}, Usage(4, 5, 9)),  # the Responses API
        ({"input_tokens": -4, "output_tokens": 10**12}, Usage()),
        (None, None),
        ([1, 2], None),
    ],
)
def test_usage_is_read_only_from_plausible_integers(usage: object, expected: Usage | None) -> None:
    assert usage_of(usage) == expected


@pytest.mark.parametrize(
    ("final", "expected"),
    [
        ({"done": True, "prompt_eval_count": 11, "eval_count": 5}, Usage(11, 5, 16)),
        ({"done": True, "prompt_eval_count": 7}, Usage(7, None, 7)),  # /api/embed counts its input only
        ({"done": True, "prompt_eval_count": -1, "eval_count": "5"}, None),
        (
            {"done": True, "prompt_eval_count": MAX_TOKEN_COUNT, "eval_count": MAX_TOKEN_COUNT},
            Usage(MAX_TOKEN_COUNT, MAX_TOKEN_COUNT),
        ),
        ({"done": True}, None),
    ],
)
def test_ollama_usage_is_read_from_its_counts(final: dict[str, typing.Any], expected: Usage | None) -> None:
    assert ollama_usage(final) == expected


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


@pytest.mark.parametrize(
    ("identity", "method"),
    [
        (Identity("ci-bot", kind="service", groups=("ci",), key_id="0a1b2c3d4e5f"), "api_key"),
        (Identity("alice", email="alice@example.com", groups=("eng", "sec")), "oidc"),
        (Identity.anonymous(), "anonymous"),
    ],
)
def test_when_the_exchange_ends_then_the_record_names_the_instance_and_how_the_caller_authenticated(
    identity: Identity, method: str
) -> None:
    ex = recorded()
    ex.identify(identity)
    record = ex.finish()
    assert (record.instance, record.subject, record.email, record.groups, record.key_id, record.auth_method) == (
        "gw-1", identity.subject, identity.email, identity.groups, identity.key_id, method,
    )  # fmt: skip


def test_when_authentication_failed_then_the_record_names_no_identity() -> None:
    record = exchange().finish()
    assert (record.subject, record.email, record.groups, record.auth_method, record.key_id) == (
        None,
        None,
        (),
        None,
        None,
    )
    assert record.instance and record.user_agent is None


def test_when_the_user_agent_holds_a_value_then_the_record_keeps_it_redacted_and_cut() -> None:
    agent = f"tool/1.0 (card {CARD}; mail {EMAIL}) " + "x" * (MAX_USER_AGENT_SCAN - 100)
    record = recorded(user_agent=agent).finish()
    assert record.user_agent is not None and len(record.user_agent) == MAX_USER_AGENT
    assert record.user_agent.startswith("tool/1.0 (card [CREDIT_CARD]; mail [EMAIL_ADDRESS]) x")
    assert recordable_user_agent(agent, None) is None  # nothing kept when it cannot be redacted


def test_when_the_user_agent_is_too_long_to_scan_then_only_a_marker_is_recorded() -> None:
    agent = "x" * (MAX_USER_AGENT_SCAN - 10) + CARD  # a value cut at any window's end would not be found
    assert recorded(user_agent=agent).finish().user_agent == OVERLONG_USER_AGENT


def test_when_the_user_agent_cannot_be_inspected_then_it_is_not_recorded() -> None:
    def failing(_text: str) -> str:
        raise RuntimeError("detector down")

    assert recordable_user_agent("curl/8.0", failing) is None
    assert recordable_user_agent("curl/8.0", INSPECTOR.redact) == "curl/8.0"


@pytest.mark.parametrize("mode", ["full", "masked"])
def test_when_the_mode_keeps_text_then_the_request_and_answer_are_recorded_with_every_value_redacted(
    mode: RecordMode,
) -> None:
    ex = recorded(mode)
    ex.forwarded({"model": "m", "messages": [{"role": "user", "content": f"mail {EMAIL}, card [CREDIT_CARD]"}]})
    ex.answered(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": f"card {CARD} <EMAIL_ADDRESS_1>"}}]}
    )
    record = ex.finish()
    assert record.request_text is not None and record.response_text is not None and not record.truncated
    assert EMAIL not in record.request_text and "mail [EMAIL_ADDRESS], card [CREDIT_CARD]" in record.request_text
    assert CARD not in record.response_text and "card [CREDIT_CARD] <EMAIL_ADDRESS_1>" in record.response_text


def test_when_the_mode_is_metadata_then_no_text_is_kept() -> None:
    ex = recorded("metadata")
    ex.forwarded({"messages": [{"role": "user", "content": "hello"}]})
    ex.answered({"choices": []})
    assert ex.transcript() is None
    record = ex.finish()
    assert (record.request_text, record.response_text, record.truncated) == (None, None, False)
    assert record.positions and record.record_mode == "metadata"  # positions are metadata: kept


def test_when_the_gateway_cannot_redact_then_no_text_is_kept_whatever_the_mode() -> None:
    ex = recorded("full", recording=Recording(instance="gw-1"))
    ex.forwarded({"messages": [{"role": "user", "content": "hello"}]})
    assert ex.transcript() is None
    assert ex.finish().request_text is None


def test_when_redaction_fails_then_the_record_keeps_no_text_but_is_still_made() -> None:
    def failing(_node: object) -> object:
        raise RuntimeError("detector down")

    ex = recorded("full", recording=Recording(instance="gw-1", redact_document=failing, redact_answer=failing))
    ex.forwarded({"messages": [{"role": "user", "content": "hello"}]})
    ex.answered({"choices": []})
    record = ex.finish()
    assert (record.request_text, record.response_text) == (None, None) and record.decision == "mask"


def test_when_a_text_is_longer_than_the_limit_then_it_is_cut_there_and_flagged() -> None:
    recording = dataclasses.replace(RECORDING, max_text_bytes=1024)
    ex = recorded("full", recording=recording)
    ex.forwarded({"messages": [{"role": "user", "content": f"{CARD} " + "é" * 3000}]})
    ex.answered({"choices": [{"index": 0, "message": {"content": "short"}}]})
    record = ex.finish()
    assert record.request_text is not None and record.truncated
    assert len(record.request_text.encode()) <= 1024 and record.request_text.endswith("é")
    assert "[CREDIT_CARD]" in record.request_text and CARD not in record.request_text
    assert record.response_text is not None and record.response_text.endswith("}")  # whole


def test_when_a_stream_is_recorded_then_its_transcript_is_redacted_and_its_time_to_first_token_kept() -> None:
    ex = recorded("masked")
    transcript = ex.transcript()
    assert transcript is not None and ex.transcript() is transcript
    transcript.add({"choices": [{"index": 0, "delta": {"content": "card 4111 1111 "}}]})
    ex.started(200)
    ex.first_byte()
    transcript.add({"choices": [{"index": 0, "delta": {"content": "1111 1111 done"}}]})
    record = ex.finish()
    assert record.response_text == '{"content":"card [CREDIT_CARD] done"}'
    assert record.ttft_ms is not None and 0 <= record.ttft_ms <= record.latency_ms


def test_when_a_stream_transcript_overflows_then_the_record_is_flagged_truncated() -> None:
    ex = recorded("masked", recording=dataclasses.replace(RECORDING, max_text_bytes=1024))
    transcript = ex.transcript()
    assert transcript is not None
    for _ in range(5):
        transcript.add({"choices": [{"index": 0, "delta": {"content": "y" * 300}}]})
    record = ex.finish()
    assert record.truncated and record.response_text == '{"content":"' + "y" * 900 + '"}'


def test_when_the_answer_is_whole_then_no_time_to_first_token_is_recorded() -> None:
    ex = recorded()
    ex.respond(web.Response(body=b"{}", status=200))
    assert ex.finish().ttft_ms is None


def test_when_a_decision_was_made_then_the_record_names_the_policy_and_detector_versions_and_positions() -> None:
    record = recorded().finish()
    assert (record.policy_version, record.detector_version) == ("p" * 64, "d" * 64)
    assert record.positions == (FindingPosition("CREDIT_CARD", ("messages", 0, "content"), 5, 18),)
    undecided = Exchange(make_mocked_request("GET", "/v1/models"), "models", None, RECORDING).finish()
    assert (undecided.policy_version, undecided.detector_version, undecided.positions) == (None, None, ())


def test_when_a_held_request_is_released_then_the_record_carries_what_its_release_masked() -> None:
    ex = exchange()
    held = inspection("require_approval")
    ex.decide(dataclasses.replace(held, masked={}, positions=()))
    headers = dict(ex.headers)

    ex.released(held)

    record = ex.finish()
    assert record.masked_request == {"CREDIT_CARD": 1} and record.positions == held.positions
    assert ex.headers == headers


SEALING = dataclasses.replace(RECORDING, originals=Originals(keyring()))
"""A gateway that seals originals for ``full`` records (the default modes)."""


def test_when_the_mode_keeps_originals_then_the_body_and_answer_are_sealed_and_only_their_hash_is_in_the_row() -> None:
    ex = recorded("full", recording=SEALING)
    ex.body(f'{{"content": "card {CARD}"}}'.encode())
    ex.answered({"choices": [{"index": 0, "message": {"content": f"mail {EMAIL}"}}]})
    record = ex.finish()

    assert record.originals is not None and record.originals_sha256 == envelope_sha256(record.originals)
    assert CARD.encode() not in record.originals and EMAIL.encode() not in record.originals
    opened = open_originals(record.originals, record_id=record.request_id, keyring=keyring())
    assert opened.request == f'{{"content": "card {CARD}"}}'
    assert opened.answer is not None and f"mail {EMAIL}" in opened.answer


def test_when_a_stream_keeps_originals_then_its_assembled_answer_is_sealed_unredacted() -> None:
    ex = recorded("full", recording=SEALING)
    transcript = ex.transcript()
    assert transcript is not None
    transcript.add({"choices": [{"index": 0, "delta": {"content": "card 4111 1111 "}}]})
    transcript.add({"choices": [{"index": 0, "delta": {"content": "1111 1111"}}]})
    record = ex.finish()

    assert record.originals is not None
    opened = open_originals(record.originals, record_id=record.request_id, keyring=keyring())
    assert opened.answer == f'{{"content":"card {CARD}"}}'
    assert record.response_text == '{"content":"card [CREDIT_CARD]"}'


@pytest.mark.parametrize("mode", ["masked", "metadata"])
def test_when_the_mode_does_not_keep_originals_then_none_are_sealed(mode: RecordMode) -> None:
    ex = recorded(mode, recording=SEALING)
    ex.body(b'{"content": "hello"}')
    ex.answered({"choices": []})
    record = ex.finish()

    assert (record.originals, record.originals_sha256) == (None, None)
    if mode == "metadata":
        assert ex.transcript() is None


class _UnreachableKms:
    """A key-encryption key whose service is down: every wrap fails."""

    id = "kms-1"

    def wrap(self, data_key: bytes, context: bytes) -> bytes:
        raise ConnectionError("kms unreachable")

    def unwrap(self, wrapped: bytes, context: bytes) -> bytes:
        raise ConnectionError("kms unreachable")


def test_when_sealing_fails_then_the_record_is_still_made_without_originals(caplog: pytest.LogCaptureFixture) -> None:
    broken = dataclasses.replace(RECORDING, originals=Originals(Keyring(_UnreachableKms())))
    ex = recorded("full", recording=broken)
    ex.body(f"card {CARD}".encode())
    record = ex.finish()

    assert (record.decision, record.originals, record.originals_sha256) == ("mask", None, None)
    assert "sealing the originals failed" in caplog.text and CARD not in caplog.text
