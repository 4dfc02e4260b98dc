"""A held-out labelled corpus, independent of ``bench/corpus.py`` and of the detectors' code.

``generate("dev")`` is the half engineers may read and tune against; ``generate("test")`` is read only by the
benchmark (``bench/detection.py``), whose figures on it are the ones reported. Records have the format the
benchmark scores: ``{"kind", "text", "entities": [{"start", "end", "type"}], "negatives": [{"start", "end",
"kind"}]}``; labels are where values were written, never a re-scan. Deterministic: every record draws from its
own ``random.Random`` seeded by split, family and index.
"""

from __future__ import annotations

import random
from typing import Any

from bench.heldout.doc import DocBuilder
from bench.heldout.shapes import ALL
from bench.heldout.slots import Ctx
from bench.heldout.split import RECORDS_PER_FAMILY, SPLITS, Split, deal, seed

PATTERN_TYPES: tuple[str, ...] = (
    "CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER", "IBAN_CODE", "EMAIL_ADDRESS", "PHONE_NUMBER",
    "IP_ADDRESS",
)  # fmt: skip
SECRET_TYPES: tuple[str, ...] = (
    "AWS_ACCESS_KEY", "AWS_SECRET_KEY", "GITHUB_TOKEN", "GITLAB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "NPM_TOKEN", "HUGGINGFACE_TOKEN", "SENDGRID_API_KEY", "JWT",
    "PRIVATE_KEY", "PASSWORD", "API_KEY",
)  # fmt: skip
NAME_TYPES: tuple[str, ...] = ("PERSON",)
TYPES: tuple[str, ...] = PATTERN_TYPES + SECRET_TYPES + NAME_TYPES
"""Every type the corpus labels."""

__all__ = ["NAME_TYPES", "PATTERN_TYPES", "SECRET_TYPES", "SPLITS", "TYPES", "Split", "generate"]


def generate(split: Split) -> list[dict[str, Any]]:
    """Every record of one half, in a fixed order (family by family)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, not {split!r}")
    records = []
    for family, templates in sorted(deal(ALL, split).items()):
        for i in range(RECORDS_PER_FAMILY[family]):
            template = templates[i % len(templates)]
            ctx = Ctx(random.Random(seed(split, family, i)))
            d = DocBuilder()
            template.write(ctx, d)
            records.append(d.record(family))
    return records
