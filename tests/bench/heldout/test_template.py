"""Templates write their body with the slots filled."""

from __future__ import annotations

import random

from bench.heldout.doc import DocBuilder
from bench.heldout.slots import Ctx
from bench.heldout.template import choice, text


def test_text_template_fills_its_slots() -> None:
    d = DocBuilder()
    text("prose", "t", "Hi «recipient_given», order «order».").write(Ctx(random.Random(1)), d)
    record = d.record("prose")
    assert record["text"].startswith("Hi ")
    assert [e["type"] for e in record["entities"]] == ["PERSON"]
    assert [n["kind"] for n in record["negatives"]] == ["order_number"]


def test_choice_template_draws_one_of_its_bodies() -> None:
    seen = set()
    for seed in range(20):
        d = DocBuilder()
        choice("prose", "c", "one «order»", "two «order»").write(Ctx(random.Random(seed)), d)
        seen.add(d.record("prose")["text"].split()[0])
    assert seen == {"one", "two"}
