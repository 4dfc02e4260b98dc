"""Where ``clearance login`` keeps its tokens: one JSON file per profile that only the user can read.

``$CLEARANCE_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/clearance``, else ``~/.config/clearance``; the file is
``tokens/<profile>.json``, mode 0600 in a 0700 folder, replaced atomically. A file that others can read is
refused (as ssh refuses a readable private key): it holds a refresh token.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson

_PROFILE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class TokenFileError(Exception):
    """The token file is missing, unreadable, unsafe or not ours. The message says what to do."""


def config_dir() -> Path:
    explicit = os.environ.get("CLEARANCE_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CONFIG_HOME")
    return (Path(xdg) if xdg else Path.home() / ".config") / "clearance"


def token_path(profile: str) -> Path:
    if not _PROFILE.match(profile):
        raise TokenFileError(f"profile name {profile!r} may only use letters, digits, '.', '_' and '-'")
    return config_dir() / "tokens" / f"{profile}.json"


@dataclass
class StoredLogin:
    """What a login left: how to refresh, and the tokens."""

    issuer: str
    client_id: str
    token_endpoint: str
    scope: str
    access_token: str
    expires_at: float
    """Unix seconds when the token printed by ``clearance token`` expires."""
    use_id_token: bool = False
    refresh_token: str | None = None
    id_token: str | None = None
    resource: str | None = None
    extra_params: dict[str, str] = field(default_factory=dict)

    @property
    def bearer(self) -> str | None:
        return self.id_token if self.use_id_token else self.access_token


def save(profile: str, login: StoredLogin) -> Path:
    path = token_path(profile)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path.parent, 0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(orjson.dumps(asdict(login), option=orjson.OPT_INDENT_2))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def load(profile: str) -> StoredLogin:
    path = token_path(profile)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise TokenFileError(f"not logged in (no {path}): run `clearance login`") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenFileError(f"{path} can be read by other users: run `chmod 600 {path}`")
    try:
        data: Any = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise TokenFileError(f"{path} is unreadable: run `clearance login` again") from None
    if not isinstance(data, Mapping):
        raise TokenFileError(f"{path} is not a token file: run `clearance login` again")
    try:
        return StoredLogin(**data)
    except TypeError:
        raise TokenFileError(f"{path} is from another version: run `clearance login` again") from None


def remove(profile: str) -> bool:
    try:
        os.unlink(token_path(profile))
    except FileNotFoundError:
        return False
    return True
