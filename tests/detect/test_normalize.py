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


# ---- compatibility forms, removed characters and separators: one row per class of character


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("\u2074\u00b9\u00b9\u00b9", "4111"),  # superscript digits (Latin-1 and beyond)
        ("\u2084\u2081\u2081\u2081", "4111"),  # subscript digits
        ("\u2463\u2460\u2460\u2460", "4111"),  # circled digits
        ("\u24ea", "0"),  # circled digit zero
        ("\u2477\u2474", "41"),  # parenthesised digits: "(4)" stands for 4
        ("\u248b\u2488", "41"),  # digit full stop: "4." stands for 4
        ("\U0001d7d2\U0001d7cf", "41"),  # mathematical bold digits
        ("\U0001d7fa\U0001d7f7", "41"),  # mathematical monospace digits
        ("\U0001fbf4\U0001fbf1", "41"),  # segmented digits
        ("\U0001f105\U0001f102", "41"),  # digit comma: "4," stands for 4
        ("\u24b9\u24ba", "DE"),  # circled capital letters
        ("\U0001d403\U0001d404", "DE"),  # mathematical bold capitals
        ("\u249f\u24a0", "de"),  # parenthesised small letters
        ("\u00aa\u00ba", "ao"),  # ordinal indicators
        ("\u2024\uff0e\ufe52", "..."),  # one-dot leader, full-width and small full stops
        ("\u2212\u2012\ufe63", "---"),  # minus sign and other dashes
        ("\u3000\u2007\u202f", "   "),  # ideographic, figure and narrow no-break spaces
        ("a\u2028b\u2029c\u0085d\x0be\x0cf", "a\nb\nc\nd\ne\nf"),  # line and paragraph breaks
        ("a\tb\nc\rd", "a\tb\nc\rd"),  # tab, line feed and carriage return are separators: kept
        ("10\u00bd", "10\u00bd"),  # a fraction is several characters' worth: left as is
        ("\u2469", "\u2469"),  # circled ten: two digits' worth, left as is
    ],
)
def test_when_a_compatibility_form_is_one_ascii_character_then_it_folds_to_it(text: str, expected: str) -> None:
    assert NORMALIZER.normalize(text)[0] == expected


_REMOVED = [
    pytest.param("\u200b", id="Cf zero-width space"),
    pytest.param("\u2063", id="Cf invisible separator"),
    pytest.param("\u180e", id="Cf Mongolian vowel separator"),
    pytest.param("\u061c", id="Cf Arabic letter mark"),
    pytest.param("\U000e0031", id="Cf tag digit one"),
    pytest.param("\u0301", id="Mn combining acute"),
    pytest.param("\u0332", id="Mn combining low line"),
    pytest.param("\ufe0f", id="Mn variation selector"),
    pytest.param("\U000e0100", id="Mn variation selector supplement"),
    pytest.param("\u20dd", id="Me combining enclosing circle"),
    pytest.param("\x00", id="C0 NUL"),
    pytest.param("\x1b", id="C0 escape"),
    pytest.param("\x7f", id="DEL"),
    pytest.param("\x9b", id="C1 control"),
    pytest.param("\u3164", id="Hangul filler"),
]


@pytest.mark.parametrize("invisible", _REMOVED)
def test_when_an_invisible_character_is_between_every_digit_then_it_is_removed_and_spans_map_back(
    invisible: str,
) -> None:
    text = "pay " + invisible.join("4111111111111111") + invisible + " now"
    folded, offsets = NORMALIZER.normalize(text)
    assert folded == "pay 4111111111111111 now"
    start, end = offsets.span(4, 20)
    assert text[start:end] == invisible.join("4111111111111111")


@pytest.mark.parametrize(
    "text",
    [
        "plain printable ASCII, digits 4111 and punctuation!",
        "lines\nand\ttabs\r\n",
        "Bäcker Straße 12, Zürich",  # Latin-1 with nothing to fold
        "日本語のテキストと 2024 年",  # CJK prose
        "नमस्ते दुनिया, 2024",  # Devanagari vowel signs (Mn) after letters hide nothing
        "ok \U0001f600 fine",  # an emoji
    ],
)
def test_when_text_holds_nothing_to_fold_then_it_is_returned_as_is(text: str) -> None:
    folded, offsets = NORMALIZER.normalize(text)
    assert folded is text
    assert offsets.identity


def test_when_a_combining_mark_follows_a_digit_in_non_latin_text_then_it_is_removed() -> None:
    text = "नमस्ते 4\u0301111"
    folded, offsets = NORMALIZER.normalize(text)
    assert folded.endswith(" 4111")
    # Once a text folds, it folds whole: the vowel signs go too, and every span still maps back.
    start = folded.index("4111")
    assert text[slice(*offsets.span(start, start + 4))] == "4\u0301111"


_HIDING = st.sampled_from([invisible.values[0] for invisible in _REMOVED])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.characters(codec="utf-8"), _HIDING, st.sampled_from("0123456789 -")), max_size=80))
def test_property_removal_and_folding_keep_a_span_for_every_character(chars: list[str]) -> None:
    text = "".join(chars)
    folded, offsets = NORMALIZER.normalize(text)
    # A text that folds loses every removable character (one that a digit before it would not keep); one that
    # does not fold holds none that hides anything (a combining mark after a letter may stay).
    removable = [ch for ch in text if NORMALIZER.normalize("0" + ch)[0] == "0"]
    if folded is text:
        return
    assert len(folded) == len(text) - len(removable)
    for i, ch in enumerate(folded):
        assert NORMALIZER.normalize("0" + text[offsets.position(i)])[0] == "0" + ch
