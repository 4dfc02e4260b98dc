"""The group source file: lookups, reload on change, and a bad change never wiping the last good mapping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from clearance.auth.group_source import GroupSourceFile
from clearance.exceptions import ConfigError
from tests.auth.conftest import FakeClock


def write(path: Path, text: str, *, bump: int = 0) -> None:
    path.write_text(text)
    if bump:  # make the change visible even on a filesystem with coarse timestamps
        st = os.stat(path)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + bump * 1_000_000_000))


@pytest.fixture
def groups_file(tmp_path: Path) -> Path:
    path = tmp_path / "groups.yaml"
    write(path, "Alice@Example.com: [eng]\nsubject-7: [ops, eng]\n")
    return path


def test_when_looking_up_then_email_is_case_insensitive_and_subjects_match_exactly(groups_file: Path) -> None:
    source = GroupSourceFile(groups_file)
    source.load()

    assert source.groups_for(email="alice@EXAMPLE.com", subject="x") == ("eng",)
    assert source.groups_for(email=None, subject="subject-7") == ("ops", "eng")
    assert source.groups_for(email=None, subject="SUBJECT-7") is None
    assert source.groups_for(email="bob@example.com", subject="nobody") is None


def test_when_the_file_changes_then_the_next_check_reloads_it(groups_file: Path) -> None:
    clock = FakeClock(0)
    source = GroupSourceFile(groups_file, check_interval=2, clock=clock)
    source.load()
    write(groups_file, "alice@example.com: [eng, finance]\n", bump=1)

    assert source.groups_for(email="alice@example.com", subject="a") == ("eng",)  # not checked yet
    clock.advance(2)
    assert source.groups_for(email="alice@example.com", subject="a") == ("eng", "finance")


def test_when_the_file_changes_to_invalid_content_then_the_last_good_mapping_stays(groups_file: Path) -> None:
    clock = FakeClock(0)
    source = GroupSourceFile(groups_file, check_interval=0, clock=clock)
    source.load()

    write(groups_file, "alice@example.com: [eng\n", bump=1)  # broken YAML
    clock.advance(1)
    assert source.groups_for(email="alice@example.com", subject="a") == ("eng",)

    groups_file.unlink()
    clock.advance(1)
    assert source.groups_for(email="alice@example.com", subject="a") == ("eng",)

    write(groups_file, "alice@example.com: [recovered]\n", bump=2)
    clock.advance(1)
    assert source.groups_for(email="alice@example.com", subject="a") == ("recovered",)


@pytest.mark.parametrize(
    "text",
    ["- just\n- a list\n", "alice@example.com: eng\n", "alice@example.com: [1, 2]\n", "a: [''] \n", "{{{"],
)
def test_when_the_file_is_invalid_at_load_then_it_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text(text)

    with pytest.raises(ConfigError) as info:
        GroupSourceFile(path).load()

    assert str(path) in info.value.message


def test_when_the_file_is_missing_at_load_then_it_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        GroupSourceFile(tmp_path / "absent.yaml").load()


def test_when_the_file_is_empty_then_nobody_is_listed(tmp_path: Path) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text("")
    source = GroupSourceFile(path)
    source.load()

    assert source.groups_for(email="a@example.com", subject="a") is None
