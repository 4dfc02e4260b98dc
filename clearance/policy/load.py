"""Reading a policy file: YAML in, a validated ``PolicyFile`` out, or a ``ConfigError`` listing every problem.

Validation runs in one pass so that every error is reported at once, each with its key path and a hint. Level
names are checked against the file's own ``levels`` (read first, and passed as the validation context).
"""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from clearance.entities import DEFAULT_SCALE
from clearance.exceptions import ConfigError
from clearance.policy.schema import LevelSpec, PolicyFile

_LEVELS = TypeAdapter(tuple[LevelSpec, ...])


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML that refuses a key given twice in one mapping: PyYAML would silently keep the last, and a second
    ``rules:`` section would quietly replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: set[Hashable] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, Hashable):
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice in one mapping: keep one", key_node.start_mark
                    )
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_HINTS = {
    "extra_forbidden": "unknown key: check its spelling against docs/policy.md",
    "missing": "this key is required",
    "literal_error": "",
}


def _level_names(data: dict[str, Any]) -> tuple[str, ...] | None:
    """The file's level names, to check every reference to a level against. When ``levels`` is itself invalid
    (its errors are reported anyway), the names that can be read are used, so the other errors still show."""
    if "levels" not in data:
        return DEFAULT_SCALE
    raw = data["levels"]
    try:
        return tuple(level.name for level in _LEVELS.validate_python(raw))
    except ValidationError:
        if not isinstance(raw, list):
            return None
        named = (entry.get("name") if isinstance(entry, dict) else entry for entry in raw)
        return tuple(name for name in named if isinstance(name, str))


def _errors(exc: ValidationError) -> list[tuple[str, str]]:
    out = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(err["type"])
        if err["loc"] == ("version",):
            hint = "this file format is version 1: put 'version: 1' at the top"
        out.append((path, f"{msg} ({hint})" if hint else msg))
    return out


def parse_policy(data: Any, *, source: str = "policy") -> PolicyFile:
    """Validate already-parsed data; raises ``ConfigError`` with every problem as ``(key path, message)``."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level", [("(top level)", "not a mapping")])
    try:
        return PolicyFile.model_validate(data, context={"levels": _level_names(data)})
    except ValidationError as exc:
        errors = _errors(exc)
        raise ConfigError(f"{source}: {len(errors)} error(s)", errors) from None


def read_policy_text(text: str, *, source: str = "policy") -> PolicyFile:
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (_UniqueKeyLoader is a SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError(f"{source}: invalid YAML at {where}", [(where, str(exc))]) from None
    return parse_policy(data, source=source)


def read_policy_file(path: str | Path) -> tuple[PolicyFile, str]:
    """The validated file and its text (whose digest identifies the version)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", [(str(path), "cannot read")]) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text", [(str(path), "not UTF-8 text")]) from None
    return read_policy_text(text, source=str(path)), text
