"""Prose: credentials introduced by words in five languages, personal data in sentences."""

from __future__ import annotations

from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import prose


def test_every_prose_template_labels_something(counts: Callable[..., list[Census]]) -> None:
    for c in counts(prose.TEMPLATES):
        assert sum(c.entities.values()) >= 15
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_credentials_in_five_languages() -> None:
    names = {t.name for t in prose.TEMPLATES}
    assert {"german-credentials", "french-credentials", "spanish-credentials", "portuguese-credentials"} <= names
    assert {"key-for-env", "my-password", "token-colon"} <= names
