from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from clearance.detect.overlap import resolve_overlaps
from clearance.levels import LevelScheme
from clearance.models import Finding


def test_when_findings_overlap_then_the_higher_score_wins() -> None:
    jwt = Finding(22, 100, "JWT", 0.95, "jwt")
    api_key = Finding(22, 100, "API_KEY", 0.8, "assignment")
    assert resolve_overlaps([api_key, jwt]) == [jwt]


def test_when_scores_tie_then_the_longer_finding_wins_and_then_the_type_name() -> None:
    long = Finding(0, 20, "B", 0.9)
    short = Finding(5, 10, "A", 0.9)
    assert resolve_overlaps([short, long]) == [long]
    a, b = Finding(0, 5, "A", 0.9), Finding(0, 5, "B", 0.9)
    assert resolve_overlaps([b, a]) == [a]


def test_when_levels_are_given_then_the_more_sensitive_finding_wins_whatever_its_score() -> None:
    # "4111111111111111@mail.io": the card is the e-mail's local part.
    email = Finding(0, 24, "EMAIL_ADDRESS", 0.95, "email")
    card = Finding(0, 16, "CREDIT_CARD", 0.9, "card")
    assert resolve_overlaps([email, card]) == [email]  # by score alone
    assert resolve_overlaps([email, card], LevelScheme()) == [card]


def test_when_levels_tie_then_score_and_length_decide_as_without_levels() -> None:
    jwt = Finding(22, 100, "JWT", 0.95, "jwt")
    api_key = Finding(22, 100, "API_KEY", 0.8, "assignment")
    assert resolve_overlaps([api_key, jwt], LevelScheme()) == [jwt]


def test_when_findings_touch_but_do_not_overlap_then_both_stay_in_order() -> None:
    first, second = Finding(0, 5, "A", 0.5), Finding(5, 9, "B", 0.9)
    assert resolve_overlaps([second, first]) == [first, second]


_FINDINGS = st.lists(
    st.builds(
        lambda s, n, t, sc: Finding(s, s + n, t, sc),
        st.integers(0, 50), st.integers(1, 10), st.sampled_from("ABC"), st.sampled_from([0.3, 0.6, 0.9]),
    ),
    max_size=25,
)  # fmt: skip


@given(_FINDINGS)
def test_property_the_result_is_disjoint_sorted_deterministic_and_drawn_from_the_input(
    findings: list[Finding],
) -> None:
    kept = resolve_overlaps(findings)
    assert all(a.end <= b.start for a, b in itertools.pairwise(kept))
    assert set(kept) <= set(findings)
    assert resolve_overlaps(list(reversed(findings))) == kept
    for f in findings:  # every dropped finding overlaps one kept at least as strong
        if f not in kept:
            assert any(k.start < f.end and f.start < k.end and k.score >= f.score for k in kept)
