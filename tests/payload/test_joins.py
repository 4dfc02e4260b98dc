"""A value split across adjacent texts is found, and each of its pieces located in its own text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect import Scanner
from clearance.payload.joins import WINDOW, split_findings

SCAN = Scanner.from_config(None).scan


def masked_pieces(texts: list[str]) -> list[str]:
    """Each text with the pieces of split values replaced by '#'."""
    out = list(texts)
    for found in split_findings(texts, SCAN):
        for index, piece in found.pieces:
            text = out[index]
            out[index] = text[: piece.start] + "#" * (piece.end - piece.start) + text[piece.end :]
    return out


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["card 4111 1111", "1111 1111 thanks"], ["card #########", "######### thanks"]),
        (["card 4111 11", "11 1111 1111"], ["card #######", "############"]),
        (["my ssn is 536-22-", "1234"], ["my ssn is #######", "####"]),
        (["key AKIA2OGYBAH6", "STMMNXNN"], ["key ############", "########"]),
        (["4111", "1111", "1111", "1111"], ["####", "####", "####", "####"]),
        (["iban DE89 3704 0044", "0532 0130 00"], ["iban ##############", "############"]),
        # the text before a token's first piece must not glue onto its prefix
        (["look it up", "ghp_4hT9kLm2QxZ7vB1n", "W8cR5yE3uJ6pA0sD2fG4"], ["look it up", "#" * 20, "#" * 20]),
    ],
)
def test_values_across_joins_are_found_piece_by_piece(texts: list[str], expected: list[str]) -> None:
    assert masked_pieces(texts) == expected


def test_values_inside_one_text_are_not_returned() -> None:
    assert split_findings(["card 4111 1111 1111 1111", "hello"], SCAN) == []
    assert split_findings(["only one 4111 1111"], SCAN) == []


def test_a_value_within_the_window_of_a_long_text_is_found() -> None:
    texts = ["x " * WINDOW + "card 4111 1111", "1111 1111 " + "y " * WINDOW]
    assert [f.type for f in split_findings(texts, SCAN)] == ["CREDIT_CARD"]


def test_each_split_value_is_reported_once() -> None:
    found = split_findings(["card 4111 1111", "1111 1111"], SCAN)
    assert [(f.type, len(f.pieces)) for f in found] == [("CREDIT_CARD", 2)]


VALUES = (
    "4111 1111 1111 1111",
    "5500-0000-0000-0004",
    "536-22-1234",
    "DE89 3704 0044 0532 0130 00",
    "AKIA2OGYBAH6STMMNXNN",
)
WORD = st.sampled_from(("note", "see", "hello", "the", "value", "ok"))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    value=st.sampled_from(VALUES),
    cuts=st.lists(st.integers(min_value=1, max_value=40), min_size=1, max_size=3, unique=True),
    before=st.lists(WORD, max_size=3),
    after=st.lists(WORD, max_size=3),
)
def test_a_value_cut_anywhere_into_adjacent_texts_is_masked_in_every_piece(
    value: str, cuts: list[int], before: list[str], after: list[str]
) -> None:
    points = sorted(c for c in cuts if c < len(value))
    if not points:
        return
    pieces = [value[i:j] for i, j in zip([0, *points], [*points, len(value)], strict=True)]
    texts = [" ".join([*before, pieces[0]]), *pieces[1:-1], " ".join([pieces[-1], *after])]
    masked = masked_pieces(texts)
    if value[0].isdigit():  # the words around it hold no digit: every digit left would be the value's
        assert not any(c.isdigit() for text in masked for c in text)
    compact = re.sub(r"[^0-9A-Za-z]", "", value)
    assert compact not in re.sub(r"[^0-9A-Za-z]", "", "".join(masked))
