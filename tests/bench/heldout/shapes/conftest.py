from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import pytest

from bench.heldout.checks import Census, census
from bench.heldout.doc import DocBuilder
from bench.heldout.shapes import ALL
from bench.heldout.slots import Ctx
from bench.heldout.split import deal
from bench.heldout.template import Template

Writer = Callable[[tuple[Template, ...]], list[dict[str, Any]]]


def write(templates: tuple[Template, ...], seeds: range) -> list[dict[str, Any]]:
    records = []
    for t in templates:
        for s in seeds:
            d = DocBuilder()
            t.write(Ctx(random.Random(f"shape-test/{t.name}/{s}")), d)
            records.append(d.record(t.family))
    return records


@pytest.fixture
def dev_records() -> Writer:
    """Records (seeds of their own) of those of the given templates that belong to the dev half: readable."""

    def make(templates: tuple[Template, ...]) -> list[dict[str, Any]]:
        dev = {t.name for ts in deal(ALL, "dev").values() for t in ts}
        return write(tuple(t for t in templates if t.name in dev), range(15))

    return make


@pytest.fixture
def counts() -> Callable[[tuple[Template, ...]], list[Census]]:
    """A census per template (every template, either half): counts only."""

    def make(templates: tuple[Template, ...]) -> list[Census]:
        return [census(write((t,), range(15))) for t in templates]

    return make
