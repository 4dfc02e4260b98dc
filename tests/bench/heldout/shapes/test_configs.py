"""Configuration files: credentials beside placeholders; a connection string's password is labelled alone."""

from __future__ import annotations

from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import configs
from tests.bench.heldout.shapes.conftest import Writer


def test_every_config_template_holds_a_credential(counts: Callable[..., list[Census]]) -> None:
    secret_types = {"PASSWORD", "API_KEY", "PRIVATE_KEY", "AWS_SECRET_KEY", "AWS_ACCESS_KEY"}
    for c in counts(configs.TEMPLATES):
        assert set(c.entities) & (secret_types | {"GITHUB_TOKEN", "SLACK_TOKEN", "STRIPE_KEY", "JWT"})
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_connection_string_passwords_are_labelled_without_the_url(dev_records: Writer) -> None:
    seen = 0
    for record in dev_records(configs.TEMPLATES):
        text = record["text"]
        for e in record["entities"]:
            if e["type"] == "PASSWORD" and text[e["end"] : e["end"] + 1] == "@":
                seen += 1
                assert not set(text[e["start"] : e["end"]]) & set("@:/")
                assert text[e["start"] - 1] == ":"
    assert seen > 5


def test_placeholders_are_negatives_not_credentials(dev_records: Writer) -> None:
    kinds = {n["kind"] for r in dev_records(configs.TEMPLATES) for n in r["negatives"]}
    assert "placeholder" in kinds
