from __future__ import annotations

from typing import get_args

import orjson

from clearance.approvals.config import EVENT_KINDS, EventKind
from clearance.approvals.model import Transition
from clearance.approvals.notify import (
    TITLES,
    approval_api_link,
    approval_link,
    counts_text,
    event_document,
    released_text,
)
from tests.approvals.notify_samples import PREVIEW, RAW_CARD, RAW_TOKEN, sample_approval, sample_event


def test_when_a_link_is_made_then_it_opens_the_approval_in_the_console_and_the_api_link_in_the_api() -> None:
    assert approval_link("https://gw.example.com/", "abc") == "https://gw.example.com/console/approvals/abc"
    assert approval_link(None, "abc") == "/console/approvals/abc"
    assert approval_api_link("https://gw.example.com/", "abc") == "https://gw.example.com/admin/v1/approvals/abc"
    assert approval_api_link(None, "abc") == "/admin/v1/approvals/abc"


def test_every_event_kind_has_a_title() -> None:
    assert set(TITLES) == set(EVENT_KINDS) == set(get_args(EventKind))


def test_when_an_approval_moves_on_then_its_event_key_changes() -> None:
    first = sample_event("requested")
    later = sample_event("approved", history=(*first.approval.history, Transition("approved", "alex", 2_000.0)))
    assert first.key == "Zq3-appr0val_id.requested.1"
    assert later.key == "Zq3-appr0val_id.approved.2"


def test_when_an_event_is_written_then_it_holds_only_what_the_approval_holds() -> None:
    document = event_document(sample_event())
    assert set(document) == {"event", "event_id", "at", "link", "api_link", "approval"}
    assert (document["link"], document["api_link"]) == (
        "https://gateway.example.com/console/approvals/Zq3-appr0val_id",
        "https://gateway.example.com/admin/v1/approvals/Zq3-appr0val_id",
    )
    assert set(document["approval"]) == {
        "id", "state", "requester", "requester_reason", "model", "endpoint", "rule", "reasons", "level", "counts",
        "preview", "released_as", "approvers", "approvals_needed", "approved_by", "created_at", "expires_at",
        "last_transition", "escalate_to", "escalated_at", "break_glass", "review",
    }  # fmt: skip
    assert document["approval"]["preview"] == PREVIEW
    assert document["approval"]["requester"] == {"subject": "sam", "kind": "user", "email": "sam@example.com"}
    text = orjson.dumps(document).decode()
    assert RAW_CARD not in text
    assert RAW_TOKEN not in text
    assert "body_sha256" not in text
    assert "groups" not in text


def test_when_an_approval_escalates_then_its_event_names_the_escalation_groups() -> None:
    document = event_document(
        sample_event(
            "escalated",
            approvers=("security", "security-leads"),
            escalate_to=("security-leads",),
            escalated_at=1_900.0,
            history=(Transition("pending", "sam", 1_000.0), Transition("pending", "system", 1_900.0, "escalated")),
        )
    )
    assert document["event"] == "escalated"
    assert document["approval"]["escalate_to"] == ["security-leads"]
    assert document["approval"]["approvers"] == ["security", "security-leads"]
    assert (document["approval"]["escalated_at"], document["approval"]["last_transition"]["actor"]) == (
        1_900.0,
        "system",
    )


def test_when_the_glass_is_broken_then_its_event_says_so_and_that_review_is_pending() -> None:
    document = event_document(sample_event("break_glass", state="approved", break_glass=True, review="pending"))
    assert (document["event"], document["approval"]["state"]) == ("break_glass", "approved")
    assert (document["approval"]["break_glass"], document["approval"]["review"]) == (True, "pending")


def test_when_types_are_counted_then_the_most_found_come_first() -> None:
    assert (
        counts_text({"EMAIL_ADDRESS": 1, "CREDIT_CARD": 2, "API_KEY": 1})
        == "CREDIT_CARD: 2, API_KEY: 1, EMAIL_ADDRESS: 1"
    )
    assert counts_text({}) == "none"


def test_when_what_approving_sends_is_written_then_unmasked_types_come_first_then_each_operator() -> None:
    approval = sample_approval(
        counts={"CREDIT_CARD": 2, "GITHUB_TOKEN": 1, "EMAIL_ADDRESS": 3, "US_SSN": 1},
        released_as={
            "CREDIT_CARD": "partial",
            "GITHUB_TOKEN": "unmasked",
            "EMAIL_ADDRESS": "redact",
            "US_SSN": "unmasked",
        },
    )

    assert (
        released_text(approval)
        == "GITHUB_TOKEN (1), US_SSN (1) unmasked; CREDIT_CARD (2) as partial; EMAIL_ADDRESS (3) as redact"
    )
    assert released_text(sample_approval(released_as={})) == "not recorded"
