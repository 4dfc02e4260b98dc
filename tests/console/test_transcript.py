"""The transcript's pieces: a finding's position read against the kept (redacted) text, shifted by each value let
through before it in the same leaf; markers no position covered still marked; chat turns with their paths."""

from __future__ import annotations

from typing import Any

import orjson

from clearance.admin.record_resources import PositionResource, RecordResource
from clearance.console.transcript import Piece, Turn, answer_pieces, marked, request_turns, type_classes
from tests.admin.test_record_resources import record_row

EMAIL = frozenset({"EMAIL_ADDRESS", "CREDIT_CARD"})


def at(kind: str, start: int, end: int, *path: str | int) -> PositionResource:
    return PositionResource(type=kind, path=list(path), start=start, end=end)


def test_when_a_value_was_let_through_then_later_positions_in_the_leaf_shift_by_its_marker() -> None:
    # as forwarded: "a jane@x.io b <EMAIL_ADDRESS_1>" (the first let through, the second a placeholder)
    kept = "a [EMAIL_ADDRESS] b <EMAIL_ADDRESS_1>"
    spans = [at("EMAIL_ADDRESS", 14, 31), at("EMAIL_ADDRESS", 2, 11)]

    assert marked(kept, spans, EMAIL) == (
        Piece("a "),
        Piece("[EMAIL_ADDRESS]", "EMAIL_ADDRESS"),
        Piece(" b "),
        Piece("<EMAIL_ADDRESS_1>", "EMAIL_ADDRESS"),
    )


def test_when_a_position_does_not_fit_the_kept_text_then_its_marker_is_still_marked() -> None:
    kept = "card [CREDIT_CARD] and [US_SSN]"

    assert marked(kept, [at("CREDIT_CARD", 90, 99)], EMAIL) == (
        Piece("card "),
        Piece("[CREDIT_CARD]", "CREDIT_CARD"),
        Piece(" and [US_SSN]"),  # not a type this record found: left as text
    )
    assert marked("", [], EMAIL) == (Piece(""),)


def _record(request: Any, response: Any = None, positions: list[PositionResource] | None = None) -> RecordResource:
    row = record_row(
        request_text=None if request is None else orjson.dumps(request).decode(),
        response_text=None if response is None else orjson.dumps(response).decode(),
        positions=[p.model_dump() for p in positions or []],
        findings={"EMAIL_ADDRESS": 1},
    )
    return RecordResource.of(row)


def test_when_a_chat_request_is_read_then_each_message_is_a_turn_with_its_findings_marked() -> None:
    request = {
        "model": "m",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "mail <EMAIL_ADDRESS_1>"}]},
        ],
    }
    record = _record(
        request,
        {"choices": [{"message": {"content": "ok [EMAIL_ADDRESS]"}}]},
        [at("EMAIL_ADDRESS", 5, 22, "messages", 1, "content", 0, "text")],
    )

    assert request_turns(record) == (
        Turn("system", (Piece("be brief"),)),
        Turn("user", (Piece("mail "), Piece("<EMAIL_ADDRESS_1>", "EMAIL_ADDRESS"))),
    )
    assert answer_pieces(record) == (Piece("ok "), Piece("[EMAIL_ADDRESS]", "EMAIL_ADDRESS"))


def test_when_the_record_kept_no_text_or_cut_it_then_the_transcript_says_so() -> None:
    assert request_turns(_record(None)) is None
    assert answer_pieces(_record(None)) is None
    cut = RecordResource.of(record_row(request_text='{"prompt": "mail [EMAIL_ADDRESS', findings={}))
    assert request_turns(cut) == (Turn("(cut)", (Piece('{"prompt": "mail [EMAIL_ADDRESS'),)),)
    assert request_turns(_record({"model": "m", "prompt": "hi"})) == (Turn("prompt", (Piece("hi"),)),)


def test_when_types_get_colour_slots_then_the_same_set_gets_the_same_slots() -> None:
    assert type_classes(["US_SSN", "EMAIL_ADDRESS", "US_SSN"]) == {"EMAIL_ADDRESS": 0, "US_SSN": 1}


def test_when_an_answer_holds_a_placeholder_of_a_type_found_then_it_is_marked() -> None:
    record = _record({"prompt": "x"}, {"content": "Noted <EMAIL_ADDRESS_1> and <NOT_A_TYPE_1>."})

    assert answer_pieces(record) == (
        Piece("Noted "),
        Piece("<EMAIL_ADDRESS_1>", "EMAIL_ADDRESS"),
        Piece(" and <NOT_A_TYPE_1>."),
    )
