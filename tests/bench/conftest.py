from __future__ import annotations

import asyncio
from typing import Any

import pytest


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every ``asyncio.sleep`` delay asked for during the test, in order (the sleeps still happen): pacing is
    judged by what was asked, not by a clock."""
    asked: list[float] = []
    real = asyncio.sleep

    async def recording(delay: float, result: Any = None) -> Any:
        asked.append(delay)
        return await real(delay, result)

    monkeypatch.setattr(asyncio, "sleep", recording)
    return asked
