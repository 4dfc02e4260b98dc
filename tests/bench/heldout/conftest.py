from __future__ import annotations

from typing import Any

import pytest

from bench.heldout import generate


@pytest.fixture(scope="session")
def dev() -> list[dict[str, Any]]:
    """The dev half: the only half whose texts tests may read."""
    return generate("dev")
