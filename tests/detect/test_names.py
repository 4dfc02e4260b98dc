"""The shape of a name: tokens, particles, initials, capitals, the not-names list, reading forward and back."""

from __future__ import annotations

import pytest

from clearance.detect.names import NOT_NAMES, PARTICLES, is_name, name_before, read_name


@pytest.mark.parametrize(
    "value",
    ["Priya", "María José Ortega-López", "O'Brien", "Sean O\u2019Brien", "McDonald", "J. R. Smith", "J.R. Tolkien",
     "Ludwig van Beethoven", "van der Berg", "Ana de la Cruz", "Fatima al-Hassan", "d'Angelo", "JANE DOE",
     "Nguyễn Thị Lan", "Siobhán Ní Bhriain", "Zoë Ça", "Владимир Путин", "Lee Min-jun"],
)  # fmt: skip
def test_when_a_value_has_a_names_shape_then_it_is_a_name(value: str) -> None:
    assert is_name(value)


@pytest.mark.parametrize(
    "value",
    ["payments-api", "jdoe", "user_42", "Build 7", "v2.3.1", "Annual Report.pdf", "web01.internal", "iPhone",
     "Jane DOE", "The Acme Team", "Support", "Hi", "Monday", "de", "J.", "A B C D E", "One Two Three Four Five",
     "3f2b1c9e", "$129.99", "ORD-99812", ""],
)  # fmt: skip
def test_when_a_value_lacks_a_names_shape_then_it_is_not_a_name(value: str) -> None:
    assert not is_name(value)


@pytest.mark.parametrize(
    ("text", "pos", "expected"),
    [
        ("Hi Priya, how", 3, "Priya"),
        ("Jane Doe and Bob", 0, "Jane Doe"),
        ("Jane Doe. Then", 0, "Jane Doe"),  # a full stop ends the sentence, not the name
        ("J. R. Smith said", 0, "J. R. Smith"),
        ("Jane DOE", 0, "Jane"),  # capitals only when every word is so
        ("Priya yesterday", 0, "Priya"),  # a lower-case word of the list ends the name
        ("Priya Monday", 0, ""),  # a capitalised word of the list: no name at all
        ("J. and", 0, ""),  # an initial alone is no name
    ],
)
def test_when_reading_forward_then_the_name_ends_where_its_shape_does(text: str, pos: int, expected: str) -> None:
    start, end = read_name(text, pos)
    assert (start, text[start:end]) == (pos, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On Mon, 3 Jun 2024 at 10:02, Jane Doe ", "Jane Doe"),
        ("Thanks Jane van Doe ", "Jane van Doe"),
        ("see 42 ", ""),
        ("x-Jane ", ""),
    ],
)
def test_when_reading_back_then_the_name_ending_there_is_found(text: str, expected: str) -> None:
    start, end = name_before(text, len(text))
    assert text[start:end] == expected


def test_the_word_lists_are_lower_case_and_particles_are_never_stop_words() -> None:
    assert all(w == w.lower() for w in NOT_NAMES)
    assert {"team", "support", "monday", "hi", "regards"} <= NOT_NAMES
    assert not PARTICLES & NOT_NAMES
