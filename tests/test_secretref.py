from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from clearance.exceptions import ConfigError
from clearance.secretref import SecretRef


def test_when_the_variable_is_set_then_its_value_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLR_TEST_SECRET", " s3cret\n")
    assert SecretRef(env="CLR_TEST_SECRET").resolve() == "s3cret"


def test_when_the_file_exists_then_its_content_is_read(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("from-file\n")
    assert SecretRef(file=tmp_path / "key").resolve() == "from-file"


def test_when_the_variable_is_missing_then_the_error_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLR_TEST_SECRET", raising=False)
    with pytest.raises(ConfigError, match="CLR_TEST_SECRET"):
        SecretRef(env="CLR_TEST_SECRET").resolve()


def test_when_the_file_is_missing_then_the_error_names_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read secret file"):
        SecretRef(file=tmp_path / "nope").resolve()


@pytest.mark.parametrize("fields", [{}, {"env": "A", "file": "/b"}, {"value": "inline"}])
def test_when_not_exactly_one_source_is_named_then_it_is_refused(fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        SecretRef.model_validate(fields)
