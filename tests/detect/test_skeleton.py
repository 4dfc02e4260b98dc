from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.skeleton import ascii_view, skeleton


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111-1111 ok", b"aaaa 0000-0000 aa"),
        ("DE89 3704", b"AA00 0000"),
        ("jo@acme.io, (415) 555_2671!", b"aa@aaaa.aa, (000) 000_0000!"),
        ("Bäcker 12", b"A?aaaa 00"),  # one "?" per non-ASCII character
        ("\U0001f600x", b"?a"),  # outside the BMP too
        ("", b""),
    ],
)
def test_when_a_text_is_reduced_to_classes_then_each_character_is_one_byte(text: str, expected: bytes) -> None:
    assert skeleton(ascii_view(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("plain ascii", b"plain ascii"), ("Bäcker Straße", b"B?cker Stra?e"), ("a\u200bb", b"a?b")],
)
def test_when_a_text_has_non_ascii_characters_then_the_ascii_view_marks_each_with_one_question_mark(
    text: str, expected: bytes
) -> None:
    assert ascii_view(text) == expected


_TEXT = st.text(alphabet=st.sampled_from("0123456789 -./()+:_xXaZé\u00b2\u0664\n@"), max_size=80)


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_property_a_class_pattern_finds_the_same_spans_in_the_skeleton_as_in_the_text(text: str) -> None:
    # The number-run pattern written over characters, and the same pattern over classes.
    over_text = re.compile(r"[0-9](?<![A-Za-z0-9_][0-9])(?<![A-Za-z0-9_][\-./][0-9])(?=[0-9 \-./()]{6})[0-9 \-./()]*")
    over_classes = re.compile(rb"0(?<![Aa0_]0)(?<![Aa0_][\-./]0)(?=[0 \-./()]{6})[0 \-./()]*")
    expected = [m.span() for m in over_text.finditer(text)]
    assert [m.span() for m in over_classes.finditer(skeleton(ascii_view(text)))] == expected
    assert len(skeleton(ascii_view(text))) == len(text)
