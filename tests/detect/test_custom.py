from __future__ import annotations

import pytest

from clearance.detect.custom import KeywordDetector, RegexDetector, compile_re2
from clearance.detect.scanner import Scanner
from tests.detect.helpers import values


def test_when_a_regex_detector_matches_then_each_match_is_a_finding() -> None:
    detector = RegexDetector("employee_id", "EMPLOYEE_ID", r"EMP-[0-9]{6}", score=0.7)
    assert values(detector, "EMP-123456 and EMP-654321, not EMP-12") == ["EMP-123456", "EMP-654321"]


def test_when_a_pattern_could_backtrack_catastrophically_then_re2_still_runs_in_linear_time() -> None:
    detector = RegexDetector("evil", "EVIL", r"(a+)+$")
    assert values(detector, "a" * 5000 + "b") == []  # a backtracking engine would not return


@pytest.mark.parametrize("pattern", ["(a)\\1", "(?<=x)y", "(?=y)", "["])
def test_when_re2_cannot_compile_a_pattern_then_the_error_says_why_and_what_to_do(pattern: str) -> None:
    with pytest.raises(ValueError, match=r"RE2 cannot compile this pattern .*rewrite"):
        compile_re2(pattern)


def test_when_keywords_are_listed_then_whole_words_match_in_any_case() -> None:
    detector = KeywordDetector("codenames", "PROJECT", ["Bluebird", "night jar"])
    text = "Project BLUEBIRD and night jar, not bluebirds or Bluebirdy"
    assert values(detector, text) == ["BLUEBIRD", "night jar"]


def test_when_keywords_are_case_sensitive_then_case_matters() -> None:
    detector = KeywordDetector("codenames", "PROJECT", ["Bluebird"], case_sensitive=True)
    assert values(detector, "bluebird Bluebird") == ["Bluebird"]


def test_when_a_keyword_is_written_full_width_then_it_is_still_found() -> None:
    scanner = Scanner([KeywordDetector("codenames", "PROJECT", ["atlas"])])
    text = "about \uff21\uff34\uff2c\uff21\uff33 today"
    assert [text[f.start : f.end] for f in scanner.scan(text)] == ["\uff21\uff34\uff2c\uff21\uff33"]


def test_when_every_keyword_is_empty_then_the_detector_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        KeywordDetector("empty", "X", ["", "  "])
