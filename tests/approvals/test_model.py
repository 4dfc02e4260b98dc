from __future__ import annotations

from typing import get_args

import pytest

from clearance.approvals.model import FINAL_STATES, ApprovalRequest, ApprovalState, Requester, Transition


def approval(state: ApprovalState) -> ApprovalRequest:
    return ApprovalRequest(
        id="a1",
        requester=Requester("sam@example.com"),
        model="llama",
        endpoint="chat.completions",
        rule="secrets-need-approval",
        reasons=("matched_rule", "restricted_type"),
        level="restricted",
        counts={"GITHUB_TOKEN": 1},
        preview="deploy with [GITHUB_TOKEN]",
        body_sha256="0" * 64,
        policy_version="f" * 64,
        approvers=("security",),
        approvals_needed=1,
        grant_seconds=3600.0,
        created_at=100.0,
        expires_at=3700.0,
        state=state,
        history=(Transition("pending", "sam@example.com", 100.0),),
    )


@pytest.mark.parametrize("state", get_args(ApprovalState))
def test_when_a_state_is_final_then_the_approval_says_so(state: ApprovalState) -> None:
    assert approval(state).final is (state in FINAL_STATES)


def test_pending_and_approved_are_the_only_states_an_approval_leaves() -> None:
    assert set(get_args(ApprovalState)) - FINAL_STATES == {"pending", "approved"}


def test_an_approval_is_a_frozen_value() -> None:
    with pytest.raises(AttributeError):
        approval("pending").state = "approved"  # type: ignore[misc]
