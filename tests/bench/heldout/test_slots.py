"""Every slot writes what its name says, labelled with a catalogue type or a negative kind."""

from __future__ import annotations

import random

import pytest

from bench.heldout import TYPES
from bench.heldout.doc import Piece
from bench.heldout.slots import SLOTS, Ctx


@pytest.mark.parametrize("name", sorted(SLOTS))
def test_every_slot_writes_text_with_a_known_label(name: str) -> None:
    for seed in range(20):
        piece = SLOTS[name](Ctx(random.Random(seed)))
        text = piece if isinstance(piece, str) else piece.text
        assert text
        if isinstance(piece, Piece) and piece.type:
            assert piece.type in TYPES


def test_the_people_of_a_document_stay_the_same() -> None:
    ctx = Ctx(random.Random(4))
    first, again = SLOTS["sender"](ctx), SLOTS["sender"](ctx)
    assert isinstance(first, Piece)
    assert first == again
    given = SLOTS["sender_given"](ctx)
    assert isinstance(given, Piece)
    assert first.text.startswith(given.text)


def test_vendor_value_is_the_token_of_the_vendor_last_named() -> None:
    ctx = Ctx(random.Random(9))
    for _ in range(30):
        variable = SLOTS["vendor_var"](ctx)
        value = SLOTS["vendor_value"](ctx)
        assert isinstance(value, Piece)
        assert variable == ctx.vendor.variable
        assert value.type == ctx.vendor.type
