"""A record rendered as a transcript: who asked what, each redaction marker in its type's colour, where the
findings sat, the decision, the answer, the approval's history."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from clearance.cli.transcript import highlighted, render_record, type_styles


def record(**extra: Any) -> dict[str, Any]:
    base = {
        "id": 12, "request_id": "req-12", "created_at": 1_700_000_000.0, "instance": "gw-1", "method": "POST",
        "endpoint": "chat.completions", "model": "llama", "upstream": "vllm", "status": 200, "error_code": None,
        "latency_ms": 42.0, "subject": "sam", "identity_kind": "user", "auth_method": "oidc", "key_id": None,
        "email": "sam@corp.test", "groups": ["engineering"], "client_addr": "127.0.0.1", "user_agent": "curl/8",
        "decision": "mask", "rule": "default", "reasons": ["clearance_exceeded"], "level": "restricted",
        "declared_label": None, "masked_request": {"CREDIT_CARD": 1}, "policy_version": "p1",
        "detector_version": "d1", "record_mode": "masked", "truncated": False, "approval_id": None,
        "findings": {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1},
        "positions": [
            {"type": "CREDIT_CARD", "path": ["messages", 1, "content"], "start": 8, "end": 27},
            {"type": "EMAIL_ADDRESS", "path": ["messages", 1, "content"], "start": 31, "end": 40},
        ],
        "request_text": '{"model": "llama", "messages": [{"role": "system", "content": "be brief"}, '
        '{"role": "user", "content": "pay by [CREDIT_CARD] or [EMAIL_ADDRESS]"}]}',
        "response_text": '{"choices": [{"message": {"content": "Noted [EMAIL_ADDRESS]."}}]}',
    }  # fmt: skip
    return base | extra


def rendered(parts: list[Any]) -> str:
    console = Console(width=200, record=True)
    for part in parts:
        console.print(part)
    return console.export_text()


def test_when_a_record_is_rendered_then_each_part_of_the_transcript_is_there() -> None:
    text = rendered(render_record(record()))

    assert "Record 12 · 2023-11-14 22:13:20.000Z · request req-12 · instance gw-1" in text
    assert "sam (user, oidc; engineering) <sam@corp.test> from 127.0.0.1, curl/8" in text
    assert "system: be brief" in text
    assert "user: pay by [CREDIT_CARD] or [EMAIL_ADDRESS]" in text
    assert "messages.1.content[8:27]" in text
    assert "Decision: mask" in text and "clearance_exceeded" in text
    assert "masked:   CREDIT_CARD: 1" in text
    assert "Noted [EMAIL_ADDRESS]." in text


def test_when_markers_are_highlighted_then_each_type_has_its_own_style_and_others_are_left_plain() -> None:
    styles = type_styles(["EMAIL_ADDRESS", "CREDIT_CARD"])

    text = highlighted("a [CREDIT_CARD] b [EMAIL_ADDRESS] c [UNKNOWN]", styles)

    marked = {text.plain[span.start : span.end]: span.style for span in text.spans}
    assert marked == {"[CREDIT_CARD]": styles["CREDIT_CARD"], "[EMAIL_ADDRESS]": styles["EMAIL_ADDRESS"]}
    assert styles["CREDIT_CARD"] != styles["EMAIL_ADDRESS"]
    assert text.plain == "a [CREDIT_CARD] b [EMAIL_ADDRESS] c [UNKNOWN]"


def test_when_a_record_kept_no_text_then_the_transcript_says_so() -> None:
    text = rendered(render_record(record(request_text=None, response_text=None, record_mode="metadata")))

    assert "Request:  not kept (record mode metadata)" in text
    assert "Answer:" not in text


def test_when_the_record_asked_for_an_approval_then_its_history_is_shown() -> None:
    approval = {
        "id": "apr_x", "state": "approved", "approvals_given": 1, "approvals_needed": 1, "approvers": ["security"],
        "history": [
            {"state": "pending", "actor": "sam", "at": 1_700_000_000.0, "reason": ""},
            {"state": "approved", "actor": "alice", "at": 1_700_000_060.0, "reason": "ok for INC-7"},
        ],
    }  # fmt: skip

    text = rendered(render_record(record(approval_id="apr_x"), approval))

    assert "Approval apr_x: approved, 1/1 of security" in text
    assert "alice" in text and "ok for INC-7" in text
