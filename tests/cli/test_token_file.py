"""The token file: only the user can read it, and a file others can read is refused."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from clearance.cli import token_file
from clearance.cli.token_file import StoredLogin, TokenFileError


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARANCE_CONFIG_DIR", str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def login(**overrides: Any) -> StoredLogin:
    stored = StoredLogin(
        issuer="https://login.example.com",
        client_id="cli",
        token_endpoint="https://login.example.com/token",
        scope="openid",
        access_token="access-token-value",
        expires_at=1_900_000_000.0,
        refresh_token="refresh-token-value",
    )
    return dataclasses.replace(stored, **overrides)


def test_when_saved_then_the_file_is_0600_in_a_0700_folder_and_loads_back(config_dir: Path) -> None:
    path = token_file.save("default", login())

    assert path == config_dir / "tokens" / "default.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert token_file.load("default") == login()
    assert [p.name for p in path.parent.iterdir()] == ["default.json"]  # no temporary file left


def test_when_the_folder_existed_with_loose_permissions_then_saving_tightens_it(config_dir: Path) -> None:
    (config_dir / "tokens").mkdir(parents=True, mode=0o755)
    os.chmod(config_dir / "tokens", 0o755)

    path = token_file.save("default", login())

    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o666])
def test_when_others_can_read_the_file_then_it_is_refused_with_the_fix(mode: int) -> None:
    path = token_file.save("default", login())
    os.chmod(path, mode)

    with pytest.raises(TokenFileError, match="chmod 600"):
        token_file.load("default")


@pytest.mark.parametrize(("content", "fragment"), [(b"{not json", "unreadable"), (b"[1]", "not a token file")])
def test_when_the_file_is_damaged_then_it_says_to_log_in_again(content: bytes, fragment: str) -> None:
    path = token_file.save("default", login())
    path.write_bytes(content)

    with pytest.raises(TokenFileError, match=fragment):
        token_file.load("default")


def test_when_not_logged_in_then_load_says_to_run_login() -> None:
    with pytest.raises(TokenFileError, match="clearance login"):
        token_file.load("default")


@pytest.mark.parametrize("profile", ["../escape", "a/b", "", "x" * 65])
def test_when_a_profile_name_could_leave_the_folder_then_it_is_refused(profile: str) -> None:
    with pytest.raises(TokenFileError, match="profile"):
        token_file.token_path(profile)


def test_when_the_id_token_is_chosen_then_it_is_the_bearer() -> None:
    assert login(use_id_token=True, id_token="id-token-value").bearer == "id-token-value"
    assert login().bearer == "access-token-value"


def test_when_xdg_config_home_is_set_then_it_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLEARANCE_CONFIG_DIR")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))

    assert token_file.token_path("work") == tmp_path / "xdg" / "clearance" / "tokens" / "work.json"


def test_when_logging_out_then_the_file_is_removed() -> None:
    token_file.save("default", login())

    assert token_file.remove("default") is True
    assert token_file.remove("default") is False
