from __future__ import annotations

from pathlib import Path

import pytest

from clearance.localmodel.cache_dir import CACHE_DIR_ENV, CacheLayout, resolve_cache_root

HOME = Path("/home/someone")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, HOME / ".cache/clearance", id="when_nothing_set_then_home_cache"),
        pytest.param({"XDG_CACHE_HOME": "/xdg"}, Path("/xdg/clearance"), id="when_xdg_set_then_under_xdg"),
        pytest.param(
            {"XDG_CACHE_HOME": "relative/dir"},
            HOME / ".cache/clearance",
            id="when_xdg_relative_then_ignored_as_the_spec_says",
        ),
        pytest.param({"XDG_CACHE_HOME": "  "}, HOME / ".cache/clearance", id="when_xdg_blank_then_ignored"),
        pytest.param(
            {CACHE_DIR_ENV: "/explicit", "XDG_CACHE_HOME": "/xdg"},
            Path("/explicit"),
            id="when_clearance_cache_dir_set_then_it_wins_over_xdg",
        ),
        pytest.param(
            {CACHE_DIR_ENV: "", "XDG_CACHE_HOME": "/xdg"},
            Path("/xdg/clearance"),
            id="when_clearance_cache_dir_empty_then_next_rule",
        ),
    ],
)
def test_when_environment_varies_then_cache_root_follows_precedence(environ: dict[str, str], expected: Path) -> None:
    assert resolve_cache_root(environ, home=HOME) == expected


def test_when_clearance_cache_dir_is_relative_or_tilde_then_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_cache_root({CACHE_DIR_ENV: "cachedir"}, home=HOME) == tmp_path / "cachedir"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_cache_root({CACHE_DIR_ENV: "~/c"}) == tmp_path / "home" / "c"


def test_when_no_environ_given_then_process_environment_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "from-env"))
    assert resolve_cache_root() == tmp_path / "from-env"


def test_when_layout_created_then_every_folder_lies_under_the_root(tmp_path: Path) -> None:
    layout = CacheLayout(tmp_path / "cache")
    layout.create()
    for path in (layout.work_root, layout.log_dir, layout.lock_file, layout.component_dir("x")):
        assert path.is_relative_to(layout.root)
    assert layout.work_root.is_dir()
    assert layout.log_dir.is_dir()
