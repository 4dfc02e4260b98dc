from __future__ import annotations

import pytest

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
