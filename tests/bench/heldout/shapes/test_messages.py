"""E-mails and chats: every name in a header, a greeting, a sign-off or a chat line is labelled."""

from __future__ import annotations

import re
from collections.abc import Callable

from bench.heldout.checks import Census
from bench.heldout.shapes import messages
from tests.bench.heldout.shapes.conftest import Writer


def test_every_message_template_names_people(counts: Callable[..., list[Census]]) -> None:
    for c in counts(messages.TEMPLATES):
        assert c.entities["PERSON"] >= 15
        assert c.out_of_text == c.entity_overlaps == c.negative_overlaps == 0


def test_display_names_in_headers_are_labelled(dev_records: Writer) -> None:
    checked = 0
    for record in dev_records(messages.TEMPLATES):
        text = record["text"]
        people = {(e["start"], e["end"]) for e in record["entities"] if e["type"] == "PERSON"}
        for match in re.finditer(r'^(?:From|Von|De): "?([^"<\n]+?)"? <', text, re.MULTILINE):
            name = match.group(1)
            if any(w in name for w in ("Billing", "Care", "Team", "Support", "Desk", "Department", "Receivable")):
                continue
            assert (match.start(1), match.end(1)) in people
            checked += 1
    assert checked > 10


def test_families_are_email_and_chat() -> None:
    assert {t.family for t in messages.TEMPLATES} == {"email", "chat"}
