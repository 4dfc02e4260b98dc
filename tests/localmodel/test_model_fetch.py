from __future__ import annotations

from pathlib import Path

import pytest

from clearance.exceptions import LocalModelError
from clearance.localmodel.model_fetch import find_model_file, is_gguf

NAME = "Model.Q4_1.gguf"


def test_when_one_model_file_then_found(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / NAME).write_bytes(b"GGUF")
    (tmp_path / "pkg" / "other.gguf").write_bytes(b"GGUF")
    assert find_model_file(tmp_path, NAME) == tmp_path / "pkg" / NAME


@pytest.mark.parametrize("copies", [0, 2], ids=["when_absent", "when_ambiguous"])
def test_when_not_exactly_one_model_file_then_error(tmp_path: Path, copies: int) -> None:
    for i in range(copies):
        (tmp_path / str(i)).mkdir()
        (tmp_path / str(i) / NAME).write_bytes(b"GGUF")
    with pytest.raises(LocalModelError, match=f"found {copies}"):
        find_model_file(tmp_path, NAME)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(b"GGUF\x03\x00\x00\x00rest", True, id="when_magic_then_gguf"),
        pytest.param(b"<html>not found</html>", False, id="when_html_then_not_gguf"),
        pytest.param(b"GG", False, id="when_truncated_then_not_gguf"),
    ],
)
def test_is_gguf(tmp_path: Path, content: bytes, expected: bool) -> None:
    path = tmp_path / NAME
    path.write_bytes(content)
    assert is_gguf(path) is expected
