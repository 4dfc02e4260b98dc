from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.numbers import evenly_grouped, find_number_runs, find_spaced_runs, label_before, timestamp_like


def _runs(text: str) -> list[tuple[str, int, int]]:
    return [(text[r.start : r.end], r.lo, r.hi) for r in find_number_runs(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay 4111 1111 1111 1111 now", [("4111 1111 1111 1111", 0, 3)]),
        ("ID A1234 4111 1111 1111 1111", [("4111 1111 1111 1111", 0, 3)]),  # glued group skipped
        ("call 415-555-2671x12", [("415-555-2671", 0, 2)]),  # an extension is not glue
        ("a456-426614174000", []),  # UUID tail
        ("v1.2.3.4", []),
        ("x 1.2.3.4.RELEASE", []),
        ("on 2024-01-15 ok", []),  # a date
        ("at 10:23:45.123456 ok", []),  # the seconds of a time
        ("12 34", []),  # too short
        ("4111 1111 1111 1111abc", [("4111 1111 1111 1111", 0, 2)]),  # last group glued to letters
        ("Straße 7, 4111 1111 1111 1111", [("4111 1111 1111 1111", 0, 3)]),  # offsets past non-ASCII text
        ("4111 1111 1111 1111ß", [("4111 1111 1111 1111", 0, 2)]),  # glued to a non-ASCII letter
    ],
)
def test_when_runs_are_found_then_glued_groups_are_left_out(text: str, expected: list[tuple[str, int, int]]) -> None:
    assert _runs(text) == expected


def test_when_a_run_is_read_then_groups_gaps_and_digits_line_up() -> None:
    (run,) = find_number_runs("tel (415) 555-2671")
    assert run.sizes == (3, 3, 4)
    assert [run.gap(0), run.gap(1)] == [") ", "-"]
    assert run.digits(0, 2) == "4155552671"
    assert run.span(1, 2) == (10, 18)
    assert run.joined_after(0) is False and run.joined_before(2) is True


# The run pass as first written: the pattern over the text itself, and every rejection in Python. The engine now
# reads the text's skeleton and rejects the seconds of times itself; the runs must stay the same.
_REFERENCE_RUN = re.compile(r"[0-9](?<![A-Za-z0-9_][0-9])(?<![A-Za-z0-9_][\-./][0-9])(?=[0-9 \-./()]{6})[0-9 \-./()]*")
_REFERENCE_DATE = re.compile(
    r"[0-9]{4}([-/.])[0-9]{1,2}\1[0-9]{1,2}|[0-9]{1,2}([-/.])[0-9]{1,2}\2(?:[0-9]{4}|[0-9]{2})"
)


def _reference_runs(text: str) -> list[tuple[int, int, int]]:
    runs = []
    for match in _REFERENCE_RUN.finditer(text):
        start, raw = match.start(), match.group().rstrip(" -./()")
        end = start + len(raw)
        after, next_ = text[end : end + 1], text[end + 1 : end + 2]
        glued = bool(after) and (
            ((after.isalnum() or after == "_") and not (after in "xX" and next_.isdigit()))
            or (after in "-./" and (next_.isalnum() or next_ == "_"))
        )
        if len(raw) < 7 or (glued and " " not in raw) or (len(raw) <= 10 and _REFERENCE_DATE.fullmatch(raw)):
            continue
        if start > 0 and text[start - 1] == ":" and "." in raw[1:3] and " " not in raw:
            continue
        groups = re.split(r"[^0-9]+", raw)
        gaps = re.findall(r"[^0-9]+", raw)
        hi = len(groups) - 1
        if glued:
            hi -= 1
            while hi >= 0 and " " not in gaps[hi]:
                hi -= 1
        if hi >= 0:
            runs.append((start, end, hi))
    return runs


_PIECES = st.sampled_from(
    ["0", "7", "12", "415", "2024", "4111", "123456789", " ", "-", ".", "/", "(", ")", ":", "_", "x", "T", "a", "é",
     "\u00b2", "10:23:45.123", "2024-01-15", ", "]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(_PIECES, max_size=16).map("".join))
def test_property_runs_are_those_of_the_plain_algorithm(text: str) -> None:
    assert [(r.start, r.end, r.hi) for r in find_number_runs(text)] == _reference_runs(text)


# ---- spaced runs


def _spaced(text: str) -> list[tuple[str, tuple[int, ...]]]:
    return [(text[r.start : r.end], r.sizes) for r in find_spaced_runs(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pay 4111|1111|1111|1111 now", [("4111|1111|1111|1111", (4, 4, 4, 4))]),
        ("x 4111_1111_1111_1111", [("4111_1111_1111_1111", (4, 4, 4, 4))]),
        ("4111\t1111\t1111\t1111", [("4111\t1111\t1111\t1111", (4, 4, 4, 4))]),
        ("4111 \u2022 1111 \u2022 1111", [("4111 \u2022 1111 \u2022 1111", (4, 4, 4))]),  # a non-ASCII separator
        ("1 2 3 4 5 6 7 8 9", [("1 2 3 4 5 6 7 8 9", (1,) * 9)]),
        # The separator changes: the group between belongs to both runs.
        ("12,4111|1111|1111|1111", [("4111|1111|1111|1111", (4, 4, 4, 4))]),
        ("4111|1111|1111|1111,12,13,14", [("4111|1111|1111|1111", (4, 4, 4, 4)), ("1111,12,13,14", (4, 2, 2, 2))]),
        # A group that touches a letter belongs to a token.
        ("ab4111|1111|1111|1111", [("1111|1111|1111", (4, 4, 4))]),
        ("4111|1111|1111|1111zz", [("4111|1111|1111", (4, 4, 4))]),
        ("4111|1111|1|\u00e91111|1111", [("4111|1111|1", (4, 4, 1))]),  # a letter of another script
        ("4111|1111|1111|1111|1111", []),  # 20 digits: no value is that long
        ("12|34|56|78", []),  # 8 digits: too few (a date has as many)
        ("4111\u00b71111\u20221111\u00b71111", []),  # two different separators that look alike in the skeleton
        ("41|1111          1111", []),  # a gap of more than eight characters ends the chain
    ],
)
def test_when_digit_groups_share_one_separator_then_they_are_a_spaced_run(
    text: str, expected: list[tuple[str, tuple[int, ...]]]
) -> None:
    assert _spaced(text) == expected


def test_when_a_spaced_run_is_read_then_its_parts_and_offsets_match_the_text() -> None:
    text = "card: 4111 | 1111 | 1111 | 1111."
    (run,) = find_spaced_runs(text)
    assert run.parts == ["4111", " | ", "1111", " | ", "1111", " | ", "1111"]
    assert [text[run.offsets[k] : run.offsets[k + 1]] for k in range(len(run.parts))] == run.parts
    assert (run.lo, run.hi, run.ndigits) == (0, 3, 16)
    assert run.span(0, 3) == (6, 31)


@pytest.mark.parametrize(
    ("sizes", "even"),
    [
        ((4, 4, 4, 4), True),
        ((4, 4, 4, 3), True),
        ((1,) * 16, True),
        ((2, 2, 2, 1), True),
        ((4, 6, 5), False),
        ((4, 4, 5), False),
        ((16, 3), False),  # wider than anyone groups digits
        ((3, 3, 4), False),  # a phone number's shape
    ],
)
def test_when_groups_are_even_then_evenly_grouped_says_so(sizes: tuple[int, ...], even: bool) -> None:
    assert evenly_grouped(sizes) is even


def test_when_thousands_of_groups_share_a_separator_then_spaced_runs_stay_linear() -> None:
    # Counted work, not time: each group is read a bounded number of times whatever the text's length.
    text = "|".join(["1234"] * 20_000)
    assert find_spaced_runs(text) == ()
    text = ", ".join(["12", "4111|1111|1111|1111"] * 5_000)
    runs = find_spaced_runs(text)
    assert sum(1 for r in runs if r.sizes == (4, 4, 4, 4)) == 5_000
    assert len(runs) == 9_999  # and "1111, 12, 4111" between each two


@pytest.mark.parametrize(
    ("digits", "time"),
    [
        ("1718000000", True),  # epoch seconds (2024)
        ("1000000000", True),
        ("1718000000123", True),  # epoch milliseconds
        ("1718000000123456", True),  # epoch microseconds
        ("20241231235959", True),  # YYYYMMDDHHMMSS
        ("202412312359", True),  # YYYYMMDDHHMM
        ("19991231000000", True),
        ("20241231235959123", True),  # with milliseconds
        ("2718000000", False),  # past 2033: a North American number's shape
        ("0718000000123", False),
        ("20241331235959", False),  # month 13
        ("20241200235959", False),  # day 0
        ("20241231245959", False),  # hour 24
        ("20241231236059", False),  # minute 60
        ("20241231235960", False),  # second 60
        ("30241231235959", False),  # year 3024
        ("12345678", False),  # a plain account number
        ("123456789", False),  # nine digits: never a time here
        ("123456789012", False),
    ],
)
def test_when_digits_read_as_a_time_then_timestamp_like_says_so(digits: str, time: bool) -> None:
    assert timestamp_like(digits) is time


@pytest.mark.parametrize(
    ("text", "labelled"),
    [
        ("acct 1", True),
        ("acct no. 1", True),
        ("account #: 1", True),
        ("Account=1", True),
        ("my acct no is 1", True),
        ('"account_number": "1', True),
        ("account_no='1", True),
        ("account is 1", True),
        ("this is 1", False),
        ("(account) 1", False),  # a closing parenthesis is not a label's punctuation
        ("account updated at 1", False),
        ("subaccount 1", False),  # not a whole word
        ("1", False),
    ],
)
def test_when_a_label_is_the_word_right_before_then_label_before_says_so(text: str, labelled: bool) -> None:
    lower = text.lower()
    labels = ("account", "acct", "acct no", "account number", "account no")
    assert label_before(lower, lower.rindex("1"), labels) is labelled
