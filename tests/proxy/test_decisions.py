from __future__ import annotations

from clearance.approvals.lifecycle import new_approval
from clearance.approvals.model import Requester
from clearance.models import ApprovalRequirement, Decision
from clearance.proxy.decisions import approval_required, decision_headers, denial


def test_headers_carry_counts_never_values() -> None:
    decision = Decision("mask", "r1", ("restricted_type", "label_mismatch"), "restricted", counts={"US_SSN": 2})
    headers = decision_headers(decision, {"US_SSN": 2})
    assert headers == {
        "X-Clearance-Decision": "mask",
        "X-Clearance-Rule": "r1",
        "X-Clearance-Reasons": "restricted_type,label_mismatch",
        "X-Clearance-Level": "restricted",
        "X-Clearance-Findings": "US_SSN=2",
        "X-Clearance-Masked": "US_SSN=2",
    }


def test_when_nothing_was_found_or_masked_then_no_count_headers() -> None:
    headers = decision_headers(Decision("allow", "default", ("no_findings",), "public"), {})
    assert "X-Clearance-Findings" not in headers
    assert "X-Clearance-Masked" not in headers


def test_when_blocked_then_denial_is_403_blocked_by_policy_with_rule_reasons_and_counts() -> None:
    decision = Decision("block", "no-cards", ("restricted_type",), "restricted", counts={"CREDIT_CARD": 1})
    error = denial(decision)
    assert (error.http_status, error.code) == (403, "blocked_by_policy")
    assert error.details == {"rule": "no-cards", "reasons": ["restricted_type"], "findings": {"CREDIT_CARD": 1}}


def test_when_approval_is_required_then_denial_says_approval_required_with_the_policy_message() -> None:
    decision = Decision(
        "require_approval",
        "needs-ok",
        ("approval_required",),
        "restricted",
        message="ask #data-approvals",
        approval=ApprovalRequirement(("approvers",)),
    )
    error = denial(decision)
    assert (error.http_status, error.code, error.message) == (403, "approval_required", "ask #data-approvals")


def test_when_a_request_is_held_then_approval_required_names_the_approval_its_expiry_link_and_command() -> None:
    decision = Decision("require_approval", "needs-ok", ("approval_required",), "restricted", message="ask security")
    approval = new_approval(
        requester=Requester("eve"),
        model="m",
        endpoint="chat.completions",
        rule="needs-ok",
        reasons=decision.reasons,
        level="restricted",
        counts={"GITHUB_TOKEN": 1},
        preview="{}",
        body_sha256="0" * 64,
        policy_version="v1",
        approvers=("security",),
        approvals_needed=2,
        grant_seconds=60,
        pending_seconds=30,
        now=1_700_000_000.0,
    )

    error = approval_required(decision, approval, "https://gw.example.com")

    assert (error.http_status, error.code) == (403, "approval_required")
    assert error.message.startswith("ask security. Approval ")
    assert error.details["approval"] == {
        "id": approval.id,
        "state": "pending",
        "expires_at": "2023-11-14T22:13:50Z",
        "expires_at_epoch": 1_700_000_030,
        "url": f"https://gw.example.com/admin/v1/approvals/{approval.id}",
        "approve_command": f"clearance approvals approve {approval.id}",
        "approvers": ["security"],
        "approvals_needed": 2,
    }
