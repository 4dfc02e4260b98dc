from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.normalize import Normalizer

NORMALIZER = Normalizer()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain ascii 123", "plain ascii 123"),
        ("\uff14\uff11\uff11\uff11", "4111"),  # full-width digits
        ("\u0664\u0661", "41"),  # Arabic-Indic digits
        ("jo\uff20acme.io", "jo@acme.io"),  # full-width @
        ("a\u200bb\u200dc\ufeffd\u00ade", "abcde"),  # zero-width, BOM, soft hyphen
        ("415\u2011555\u20132671", "415-555-2671"),  # Unicode dashes
        ("4111\u00a01111\u20091111", "4111 1111 1111"),  # Unicode spaces
        ("Bäcker Straße 12", "Bäcker Straße 12"),  # nothing to fold
    ],
)
def test_when_text_is_normalised_then_compatibility_forms_fold_and_invisibles_go(text: str, expected: str) -> None:
    assert NORMALIZER.normalize(text)[0] == expected


def test_when_characters_are_removed_then_spans_map_back_to_the_original() -> None:
    text = "card \u200b4111\u200b 1111 x"
    folded, offsets = NORMALIZER.normalize(text)
    start = folded.index("4111")
    assert text[slice(*offsets.span(start, start + 9))] == "4111\u200b 1111"


_INVISIBLE = st.sampled_from(["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202e"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.characters(codec="utf-8"), _INVISIBLE), max_size=60))
def test_property_every_kept_character_maps_back_to_itself_folded(chars: list[str]) -> None:
    text = "".join(chars)
    folded, offsets = NORMALIZER.normalize(text)
    assert len(folded) <= len(text)
    for i, ch in enumerate(folded):
        original = text[offsets.position(i)]
        assert NORMALIZER.normalize(original)[0] == ch
    for i in range(len(folded)):
        start, end = offsets.span(i, i + 1)
        assert 0 <= start < end <= len(text)
