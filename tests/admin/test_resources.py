"""The approval resource: built from an approval, it shows what approvers need and never the body's hash or the
policy version; a lapsed approval shows as expired; a decision body keeps the reason's limit."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from clearance.admin.resources import ApprovalResource, DecisionBody
from clearance.approvals.lifecycle import approve, break_glass
from clearance.approvals.model import MAX_REASON_CHARS
from tests.approvals.test_store import ALICE, ONCALL, T0, request


def test_when_an_approval_is_shown_then_counts_and_approvers_are_there_and_hashes_are_not() -> None:
    approval = approve(request(needed=2), ALICE, "ok", now=T0 + 1)
    resource = ApprovalResource.of(approval, now=T0 + 2).model_dump()
    assert resource["state"] == "pending"
    assert (resource["approvals_given"], resource["approvals_needed"], resource["approved_by"]) == (1, 2, ["alice"])
    assert resource["counts"] == {"GITHUB_TOKEN": 1, "EMAIL_ADDRESS": 2}
    assert resource["requester"] == {"subject": "sam", "kind": "service", "email": "sam@example.com", "groups": ["dev"]}
    assert [t["actor"] for t in resource["history"]] == ["sam", "alice"]
    assert approval.body_sha256 not in str(resource) and approval.policy_version not in str(resource)


def test_when_the_pending_time_is_over_then_the_resource_shows_expired() -> None:
    assert ApprovalResource.of(request(), now=T0 + 3_600).state == "expired"
    assert ApprovalResource.of(request(), now=T0 + 3_599).state == "pending"


def test_when_a_decision_reason_is_too_long_then_the_body_is_refused() -> None:
    assert DecisionBody.model_validate({"reason": "x" * MAX_REASON_CHARS}).reason == "x" * MAX_REASON_CHARS
    with pytest.raises(ValidationError):
        DecisionBody.model_validate({"reason": "x" * (MAX_REASON_CHARS + 1)})


def test_when_a_break_glass_is_shown_then_its_flag_and_review_are_there() -> None:
    granted = break_glass(request(requester=ONCALL), ONCALL, "prod down", groups=("oncall",), now=T0)
    resource = ApprovalResource.of(granted, now=T0 + 1).model_dump()
    assert (resource["state"], resource["break_glass"], resource["review"]) == ("approved", True, "pending")
    assert (resource["reviewed_by"], resource["reviewed_at"], resource["review_reason"]) == (None, None, "")
    assert (resource["reason_from"], resource["escalate_to"], resource["escalate_at"]) == ("none", [], None)
