"""Labels are the offsets at which pieces were written."""

from __future__ import annotations

import random

import pytest

from bench.heldout.doc import DocBuilder, Piece, fill


def test_put_labels_the_span_it_wrote() -> None:
    d = DocBuilder()
    d.text("card ")
    d.ent("4111 1111 1111 1111", "CREDIT_CARD")
    d.text(", order ")
    d.neg("000123", "order_number")
    record = d.record("prose")
    assert record["text"] == "card 4111 1111 1111 1111, order 000123"
    [card] = record["entities"]
    [order] = record["negatives"]
    assert record["text"][card["start"] : card["end"]] == "4111 1111 1111 1111"
    assert card["type"] == "CREDIT_CARD"
    assert record["text"][order["start"] : order["end"]] == "000123"
    assert order["kind"] == "order_number"


def test_fill_uses_given_pieces_before_slots() -> None:
    d = DocBuilder()
    slots = {"x": lambda ctx: Piece("slot", type="T")}
    fill(d, slots, None, "«x» and «y» «x»", y=Piece("given", negative="n"))
    record = d.record("k")
    assert record["text"] == "slot and given slot"
    assert [e["start"] for e in record["entities"]] == [0, 15]
    assert record["negatives"] == [{"start": 9, "end": 14, "kind": "n"}]


@pytest.mark.parametrize("piece", [Piece("", type="PERSON"), Piece("", negative="uuid")])
def test_an_empty_labelled_piece_is_refused(piece: Piece) -> None:
    with pytest.raises(ValueError, match="empty"):
        DocBuilder().put(piece)


def test_a_piece_is_not_both_an_entity_and_a_negative() -> None:
    with pytest.raises(ValueError, match="not both"):
        Piece("x", type="PERSON", negative="city")


def test_fill_of_an_unknown_slot_fails_loudly() -> None:
    with pytest.raises(KeyError):
        fill(DocBuilder(), {}, random.Random(0), "«nope»")
