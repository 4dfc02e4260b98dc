from __future__ import annotations

import pytest

from clearance.detect.placeholders import is_placeholder, looks_random, password_score


@pytest.mark.parametrize(
    ("value", "quoted", "placeholder"),
    [
        ("changeme-later", False, True),
        ("None", False, True),
        ("${DB_PASSWORD}", False, True),
        ("{{ vault }}", True, True),
        ("<your-key>", True, True),
        ("os.environ", False, True),
        ("********", True, True),
        ("password", True, True),
        ("user_password", False, True),  # a variable in code
        ("user_password", True, False),  # quoted: a value
        ("Tr0ub4dor&3", False, False),
        ("hunter2", False, False),
    ],
)
def test_when_a_value_is_judged_then_placeholders_and_references_are_told_apart(
    value: str, quoted: bool, placeholder: bool
) -> None:
    assert is_placeholder(value, quoted=quoted) is placeholder


@pytest.mark.parametrize(
    ("value", "random"),
    [("a8f5f167f44f4964e6c998dee827110c", True), ("Zq8vN2mL0pR7sT4u", True), ("short1", False),
     ("aaaaaaaaaaaaaaaaaaaa", False), ("thisisjustlowercase", False),
     ("ZqvNmLpRsTuwxy\u0664", True), ("ZqvNmLpRsTuwxyz", False)],  # a digit of another script counts
)  # fmt: skip
def test_when_a_value_is_measured_then_generated_keys_look_random(value: str, random: bool) -> None:
    assert looks_random(value) is random


def test_when_passwords_are_scored_then_variety_scores_higher() -> None:
    assert password_score("abc") == 0.0
    assert password_score("required") < 0.5 <= password_score("Tr0ub4dor&3")
