"""The ``database:`` section (``audit.url``, its older name, is tested with the whole file in tests/test_config.py)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearance.db.config import DatabaseConfig


def test_when_no_url_is_given_then_the_database_is_the_sqlite_file_earlier_releases_used() -> None:
    assert DatabaseConfig().url == "sqlite:///clearance-audit.db"


def test_when_a_url_is_given_then_it_is_kept_as_written() -> None:
    url = "postgresql+psycopg://clearance@db.internal:5432/clearance"

    assert DatabaseConfig.model_validate({"url": url}).url == url


def test_when_an_unknown_key_is_given_then_it_is_refused() -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        DatabaseConfig.model_validate({"uri": "sqlite:///x.db"})
