"""The split: each family's templates are dealt alternately to the dev and the test half, and each half draws its
values from its own seeds, so the test half has phrasings and values the dev half never shows."""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

from bench.heldout.template import Template

Split = Literal["dev", "test"]
SPLITS: tuple[Split, ...] = ("dev", "test")

RECORDS_PER_FAMILY: dict[str, int] = {
    "table": 230, "config": 140, "email": 130, "chat": 110, "log": 150, "api": 110, "code": 130, "prose": 150,
}  # fmt: skip
"""Records per family in each half (1,150 a half)."""


def families(templates: tuple[Template, ...]) -> dict[str, list[Template]]:
    by_family: dict[str, list[Template]] = defaultdict(list)
    for t in templates:
        by_family[t.family].append(t)
    return dict(by_family)


def deal(templates: tuple[Template, ...], split: Split) -> dict[str, list[Template]]:
    """The templates of ``split``, by family: the even-numbered ones of each family for dev, the odd for test."""
    parity = SPLITS.index(split)
    return {family: ts[parity::2] for family, ts in families(templates).items()}


def seed(split: Split, family: str, index: int) -> str:
    """The seed of one record (a string: ``random.Random`` hashes it with SHA-512, not with ``hash()``)."""
    return f"clearance-heldout/{split}/{family}/{index}"
