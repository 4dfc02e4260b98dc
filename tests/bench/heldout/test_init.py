"""The corpus as the benchmark reads it: sizes, every type, labels that are right, on both halves.

The test half is read here only through ``census`` (counts), never as texts: see ``test_isolation.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from bench.heldout import SPLITS, TYPES, generate
from bench.heldout.checks import Census, census
from bench.heldout.split import RECORDS_PER_FAMILY


@pytest.fixture(scope="module", params=SPLITS)
def half(request: pytest.FixtureRequest) -> Census:
    return census(generate(request.param))


def test_each_half_is_large_enough(half: Census) -> None:
    assert half.records >= 1000
    assert sum(half.negatives.values()) >= 1500
    assert half.kinds == RECORDS_PER_FAMILY


def test_each_half_labels_every_type(half: Census) -> None:
    assert set(half.entities) == set(TYPES)
    for t in TYPES:
        assert half.entities[t] >= 5, t


def test_each_half_is_well_formed(half: Census) -> None:
    assert half.out_of_text == 0
    assert half.entity_overlaps == 0
    assert half.negative_overlaps == 0
    assert half.padded == 0


def test_each_half_labels_only_real_values(half: Census) -> None:
    assert half.invalid == {}
    assert half.sensitive_negatives == {}


def test_generation_is_deterministic(dev: list[dict[str, Any]]) -> None:
    assert generate("dev") == dev


def test_the_whole_corpus_meets_the_sizes_of_the_issue() -> None:
    halves = [census(generate(s)) for s in SPLITS]
    assert sum(h.records for h in halves) >= 2000
    assert sum(sum(h.negatives.values()) for h in halves) >= 3000


def test_an_unknown_split_is_refused() -> None:
    with pytest.raises(ValueError, match="split"):
        generate("train")  # type: ignore[arg-type]


def test_dev_records_have_the_benchmarks_format(dev: list[dict[str, Any]]) -> None:
    for record in dev[:50]:
        assert set(record) == {"kind", "text", "entities", "negatives"}
        for e in record["entities"]:
            assert set(e) == {"start", "end", "type"}
        for n in record["negatives"]:
            assert set(n) == {"start", "end", "kind"}
