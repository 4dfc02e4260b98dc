from __future__ import annotations

import copy
import pickle

import pytest

from clearance.detect.context import ContextRule, ContextScorer
from clearance.models import Finding
from tests.detect.helpers import document

RULES = [
    ContextRule(frozenset({"X"}), ("acct", "account number"), 0.5),
    ContextRule(frozenset({"X"}), ("order",), -0.4, before=10, after=0),
    ContextRule(frozenset({"Y"}), ("label",), 0.5, adjacent=True),
]
SCORER = ContextScorer(RULES)


def _score(text: str, value: str, type_: str = "X", base: float = 0.3) -> float:
    start = text.index(value)
    return SCORER.score(document(text), Finding(start, start + len(value), type_, base))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("acct 12345678", 0.8),
        ("ACCOUNT NUMBER: 12345678", 0.8),  # case does not matter
        ("12345678 (acct)", 0.8),  # after the value, inside the window
        ("accts 12345678", 0.3),  # whole words only
        ("order 12345678", 0.0),  # negative context, clamped at 0
        ("acct and order 12345678", 0.4),  # both rules count once each
        ("no context 12345678", 0.3),
    ],
)
def test_when_context_words_are_near_then_the_score_moves(text: str, expected: float) -> None:
    assert _score(text, "12345678") == pytest.approx(expected)


def test_when_a_window_is_exceeded_then_words_do_not_count() -> None:
    assert _score("order" + " " * 20 + "12345678", "12345678") == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("label: 12345678", 0.8), ("label 111 then 12345678", 0.3), ("12345678 label", 0.3)],
)
def test_when_a_rule_is_adjacent_then_only_a_label_right_before_counts(text: str, expected: float) -> None:
    assert _score(text, "12345678", type_="Y") == pytest.approx(expected)


def test_when_findings_are_scored_then_untouched_ones_are_kept_as_they_are() -> None:
    doc = document("acct 12345678 and 99")
    unchanged = Finding(18, 20, "Z", 0.3)
    out = SCORER.apply(doc, [Finding(5, 13, "X", 0.3), unchanged])
    assert out[0].score == pytest.approx(0.8) and out[1] is unchanged


def test_a_rule_is_a_plain_value_that_copies_and_pickles() -> None:
    rule = ContextRule(frozenset({"US_SSN"}), ("ssn",), 0.5, adjacent=True)
    assert copy.copy(rule) == copy.deepcopy(rule) == pickle.loads(pickle.dumps(rule)) == rule


class _LabelRule(ContextRule):
    """An application's own kind of rule (a subclass of the value)."""


def test_when_a_rule_is_a_subclass_then_the_compiled_scorer_takes_it() -> None:
    rule = _LabelRule(frozenset({"US_SSN"}), ("ssn",), 0.5, adjacent=True)
    (scored,) = ContextScorer([rule]).apply(document("ssn 123456789"), [Finding(4, 13, "US_SSN", 0.3)])
    assert scored.score == 0.8


@pytest.mark.parametrize(
    ("text", "type_", "expected"),
    [
        ("id,acct_no\n1,12345678\n", "X", 0.8),  # a column's header, read as if right before the value
        ("id,Account Number\n1,12345678\n", "X", 0.8),
        ('{"accountNumber": 12345678}', "X", 0.8),  # a camelCase key holds no whole word of its own
        ("id,label\n1,12345678\n", "Y", 0.8),  # adjacent rules count a label
        ("label,id\n1,12345678\n", "Y", 0.3),  # another column's header does not
        ("id,order_no\n1,12345678\n", "X", 0.0),  # a negative rule counts a label too
        ("id,acct_no\nacct,12345678\n", "X", 0.8),  # in the label and the window: the rule counts once
    ],
)
def test_when_a_value_has_a_field_label_then_rules_read_it(text: str, type_: str, expected: float) -> None:
    assert _score(text, "12345678", type_=type_) == pytest.approx(expected)
    start = text.index("12345678")
    (scored,) = SCORER.apply(document(text), [Finding(start, start + 8, type_, 0.3)])
    assert scored.score == pytest.approx(expected)


def test_when_a_rule_reads_only_after_a_value_then_a_label_does_not_count() -> None:
    scorer = ContextScorer([ContextRule(frozenset({"X"}), ("acct",), 0.5, before=0, after=10)])
    text = "id,acct\n1,12345678\n"
    assert scorer.score(document(text), Finding(10, 18, "X", 0.3)) == pytest.approx(0.3)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("created,x\n12345678,y\n", 0.0), ('{"createdAt": 12345678}', 0.0), ("created on 12345678", 0.3)],
)
def test_when_a_rule_is_label_only_then_words_in_the_window_do_not_count(text: str, expected: float) -> None:
    scorer = ContextScorer([ContextRule(frozenset({"X"}), ("created",), -0.5, label_only=True)])
    start = text.index("12345678")
    assert scorer.score(document(text), Finding(start, start + 8, "X", 0.3)) == pytest.approx(expected)
