from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.detect.numbers import find_number_runs


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
