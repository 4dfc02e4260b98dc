"""Every allowed and every refused transition of an approval, with the clock passed in (no sleeps)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from clearance.approvals.lifecycle import (
    SYSTEM,
    acknowledge,
    approve,
    break_glass,
    cancel,
    canonical_body_sha256,
    check_reason,
    deny,
    escalate,
    escalation_due,
    expire,
    lapsed,
    new_approval,
    use,
)
from clearance.approvals.model import MAX_REASON_CHARS, ApprovalRequest, Requester, Transition
from clearance.exceptions import (
    AlreadyApproved,
    ApprovalCancelled,
    ApprovalDenied,
    ApprovalExpired,
    ApprovalMismatch,
    ApprovalPending,
    ApprovalStateError,
    ApprovalUsed,
    BreakGlassNotAllowed,
    EscalationNotDue,
    InvalidRequest,
    NoReviewPending,
    NotAnApprover,
    NotTheRequester,
    SelfApproval,
    SelfReview,
)
from clearance.models import Identity

T0 = 1_000.0
PENDING_S = 3_600.0
GRANT_S = 600.0
BODY = canonical_body_sha256({"model": "llama", "messages": [{"role": "user", "content": "deploy"}]})
POLICY = "p" * 64
SAM = Requester("sam", email="sam@example.com", groups=("dev",))
ALICE = Identity("alice", email="alice@example.com", groups=("security",))
BOB = Identity("bob", groups=("security", "ops"))
CAROL = Identity("carol", groups=("ops",))
EVE = Identity("eve", groups=("dev",))


def pending(needed: int = 1, *, reason: str = "") -> ApprovalRequest:
    return new_approval(
        requester=SAM,
        model="llama",
        endpoint="chat.completions",
        rule="secrets-need-approval",
        reasons=("matched_rule",),
        level="restricted",
        counts={"GITHUB_TOKEN": 1},
        preview="deploy with [GITHUB_TOKEN]",
        body_sha256=BODY,
        policy_version=POLICY,
        approvers=("security", "ops"),
        approvals_needed=needed,
        grant_seconds=GRANT_S,
        pending_seconds=PENDING_S,
        now=T0,
        requester_reason=reason,
    )


def approved(at: float = T0 + 10) -> ApprovalRequest:
    return approve(pending(), ALICE, "ok", now=at)


def use_it(approval: ApprovalRequest, *, now: float = T0 + 20, **changes: Any) -> ApprovalRequest:
    binding: dict[str, Any] = {
        "body_sha256": BODY,
        "endpoint": "chat.completions",
        "rule": "secrets-need-approval",
        "policy_version": POLICY,
    }
    binding.update(changes)
    actor = binding.pop("actor", SAM)
    return use(approval, actor, now=now, **binding)


# creation


def test_when_an_approval_is_created_then_it_is_pending_with_its_first_transition_by_the_requester() -> None:
    approval = pending(reason="  release hotfix  ")

    assert (approval.state, approval.created_at, approval.expires_at) == ("pending", T0, T0 + PENDING_S)
    assert approval.requester_reason == "release hotfix"
    assert approval.history == (Transition("pending", "sam", T0, "release hotfix"),)
    assert approval.approved_by == ()


def test_when_two_approvals_are_created_then_their_ids_are_unguessable_and_url_safe() -> None:
    first, second = pending().id, pending().id

    assert first != second
    assert first.startswith("apr_") and len(first) == 4 + 32
    assert all(c.isalnum() or c in "-_" for c in first)


def test_when_many_approvals_are_created_then_no_id_reads_as_a_command_line_option() -> None:
    assert not any(pending().id.startswith("-") for _ in range(2000))


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"approvers": ()}, "approver group"),
        ({"approvals_needed": 0}, "at least one approval"),
        ({"grant_seconds": 0.0}, "positive"),
        ({"pending_seconds": -1.0}, "positive"),
    ],
)
def test_when_a_rule_is_malformed_then_no_approval_is_made(changes: dict[str, Any], problem: str) -> None:
    args: dict[str, Any] = {
        "requester": SAM, "model": "m", "endpoint": "e", "rule": "r", "reasons": (), "level": "l", "counts": {},
        "preview": "", "body_sha256": BODY, "policy_version": POLICY, "approvers": ("security",),
        "approvals_needed": 1, "grant_seconds": 1.0, "pending_seconds": 1.0, "now": T0,
    }  # fmt: skip
    args.update(changes)
    with pytest.raises(ValueError, match=problem):
        new_approval(**args)


def test_when_a_rule_requires_the_requesters_reason_and_none_is_given_then_creation_is_refused() -> None:
    with pytest.raises(InvalidRequest) as refused:
        new_approval(
            requester=SAM, model="m", endpoint="e", rule="r", reasons=(), level="l", counts={}, preview="",
            body_sha256=BODY, policy_version=POLICY, approvers=("security",), approvals_needed=1,
            grant_seconds=1.0, pending_seconds=1.0, now=T0, requester_reason="   ", reason_required=True,
        )  # fmt: skip
    assert (refused.value.code, refused.value.param) == ("reason_required", "reason")


# reasons


def test_when_a_reason_is_at_the_cap_then_it_is_kept_and_one_more_character_is_refused() -> None:
    assert check_reason("x" * MAX_REASON_CHARS, required=False, who="approver") == "x" * MAX_REASON_CHARS
    with pytest.raises(InvalidRequest) as refused:
        check_reason("x" * (MAX_REASON_CHARS + 1), required=False, who="approver")
    assert refused.value.code == "reason_too_long"


def test_when_an_approver_gives_too_long_a_reason_then_the_approval_is_refused() -> None:
    with pytest.raises(InvalidRequest):
        approve(pending(), ALICE, "x" * (MAX_REASON_CHARS + 1), now=T0 + 1)


def test_when_a_rule_requires_the_approvers_reason_then_approve_and_deny_without_one_are_refused() -> None:
    for decide in (approve, deny):
        with pytest.raises(InvalidRequest) as refused:
            decide(pending(), ALICE, "", now=T0 + 1, reason_required=True)
        assert refused.value.code == "reason_required"
    assert approve(pending(), ALICE, "checked", now=T0 + 1, reason_required=True).state == "approved"


# approve


def test_when_an_approver_approves_then_the_grant_starts_and_lasts_grant_seconds() -> None:
    approval = approve(pending(), ALICE, "looks fine", now=T0 + 10)

    assert approval.state == "approved"
    assert approval.approved_by == ("alice",)
    assert approval.expires_at == T0 + 10 + GRANT_S
    assert approval.history[-1] == Transition("approved", "alice", T0 + 10, "looks fine")


def test_when_two_of_three_approvals_are_given_then_it_stays_pending_until_the_third_distinct_one() -> None:
    approval = approve(pending(needed=3), ALICE, "one", now=T0 + 1)
    approval = approve(approval, BOB, "two", now=T0 + 2)

    assert approval.state == "pending"
    assert approval.approved_by == ("alice", "bob")
    assert approval.expires_at == T0 + PENDING_S
    assert [t.state for t in approval.history] == ["pending", "pending", "pending"]

    approval = approve(approval, CAROL, "three", now=T0 + 3)

    assert approval.state == "approved"
    assert approval.approved_by == ("alice", "bob", "carol")
    assert approval.expires_at == T0 + 3 + GRANT_S
    assert [(t.state, t.actor) for t in approval.history[1:]] == [
        ("pending", "alice"), ("pending", "bob"), ("approved", "carol"),
    ]  # fmt: skip


def test_when_the_same_approver_approves_twice_then_the_second_is_refused() -> None:
    approval = approve(pending(needed=2), ALICE, now=T0 + 1)

    with pytest.raises(AlreadyApproved):
        approve(approval, ALICE, now=T0 + 2)


def test_when_an_approved_request_is_approved_again_then_it_is_refused() -> None:
    with pytest.raises(AlreadyApproved):
        approve(approved(), BOB, now=T0 + 20)


def test_when_the_requester_approves_their_own_request_then_it_is_refused_even_as_an_approver() -> None:
    requester_in_security = Identity("sam", groups=("security",))

    with pytest.raises(SelfApproval):
        approve(pending(), requester_in_security, now=T0 + 1)


def test_when_the_requester_approves_under_another_login_with_the_same_email_then_it_is_refused() -> None:
    other_login = Identity("oidc|sam", email="SAM@example.com", groups=("security",))

    with pytest.raises(SelfApproval):
        approve(pending(), other_login, now=T0 + 1)


def test_when_someone_outside_the_approver_groups_approves_then_it_is_refused() -> None:
    with pytest.raises(NotAnApprover) as refused:
        approve(pending(), EVE, now=T0 + 1)
    assert refused.value.details == {"approvers": ["security", "ops"]}


def test_when_a_requester_like_value_acts_then_it_is_accepted_like_an_identity() -> None:
    approver = Requester("dana", groups=("ops",))

    assert approve(pending(), approver, now=T0 + 1).approved_by == ("dana",)


def test_when_a_pending_request_has_lapsed_then_approving_it_says_expired() -> None:
    with pytest.raises(ApprovalExpired):
        approve(pending(), ALICE, now=T0 + PENDING_S)


# deny and cancel


def test_when_one_approver_denies_then_the_request_is_denied_whatever_approvals_came_before() -> None:
    approval = approve(pending(needed=2), ALICE, now=T0 + 1)

    denied = deny(approval, BOB, "not this token", now=T0 + 2)

    assert denied.state == "denied"
    assert denied.history[-1] == Transition("denied", "bob", T0 + 2, "not this token")


def test_when_the_requester_denies_their_own_request_then_it_is_refused() -> None:
    with pytest.raises(SelfApproval):
        deny(pending(), SAM, now=T0 + 1)


def test_when_someone_outside_the_approver_groups_denies_then_it_is_refused() -> None:
    with pytest.raises(NotAnApprover):
        deny(pending(), EVE, now=T0 + 1)


def test_when_the_requester_cancels_a_pending_request_then_it_is_cancelled() -> None:
    cancelled = cancel(pending(), SAM, "not needed", now=T0 + 5)

    assert cancelled.state == "cancelled"
    assert cancelled.history[-1] == Transition("cancelled", "sam", T0 + 5, "not needed")


def test_when_someone_else_cancels_then_it_is_refused() -> None:
    with pytest.raises(NotTheRequester):
        cancel(pending(), ALICE, now=T0 + 5)


def test_when_an_approved_request_is_cancelled_or_denied_then_it_is_refused() -> None:
    with pytest.raises(AlreadyApproved):
        cancel(approved(), SAM, now=T0 + 20)
    with pytest.raises(AlreadyApproved):
        deny(approved(), BOB, now=T0 + 20)


FINISHED: dict[str, tuple[Callable[[], ApprovalRequest], type[ApprovalStateError]]] = {
    "denied": (lambda: deny(pending(), ALICE, now=T0 + 1), ApprovalDenied),
    "cancelled": (lambda: cancel(pending(), SAM, now=T0 + 1), ApprovalCancelled),
    "expired": (lambda: expire(pending(), now=T0 + PENDING_S), ApprovalExpired),
    "used": (lambda: use_it(approved()), ApprovalUsed),
}


@pytest.mark.parametrize("state", sorted(FINISHED))
def test_when_an_approval_has_ended_then_every_transition_is_refused_with_its_state(state: str) -> None:
    make, error = FINISHED[state]
    approval = make()
    assert approval.state == state and approval.final
    later = T0 + 30
    attempts: list[Callable[[], object]] = [
        lambda: approve(approval, BOB, now=later),
        lambda: deny(approval, BOB, now=later),
        lambda: cancel(approval, SAM, now=later),
        lambda: expire(approval, now=later + 10 * PENDING_S),
        lambda: use_it(approval, now=later),
    ]
    for attempt in attempts:
        with pytest.raises(error):
            attempt()


# expiry


def test_when_a_pending_request_reaches_its_expiry_then_the_system_expires_it() -> None:
    approval = pending()
    assert not lapsed(approval, T0 + PENDING_S - 1)
    assert lapsed(approval, T0 + PENDING_S)

    expired = expire(approval, now=T0 + PENDING_S)

    assert expired.state == "expired"
    assert expired.history[-1] == Transition("expired", SYSTEM, T0 + PENDING_S)


def test_when_a_grant_outlives_its_lifetime_then_it_expires_and_cannot_be_used() -> None:
    approval = approved(at=T0 + 10)
    end = T0 + 10 + GRANT_S

    with pytest.raises(ApprovalExpired):
        use_it(approval, now=end)
    assert expire(approval, now=end).state == "expired"


def test_when_an_approval_is_not_due_then_expiring_it_is_refused() -> None:
    with pytest.raises(ApprovalStateError) as refused:
        expire(pending(), now=T0 + 1)
    assert type(refused.value) is ApprovalStateError


# use


def test_when_the_requester_sends_the_approved_request_then_the_grant_is_used_once() -> None:
    used = use_it(approved(), now=T0 + 20)

    assert used.state == "used"
    assert used.history[-1] == Transition("used", "sam", T0 + 20)
    with pytest.raises(ApprovalUsed):
        use_it(used, now=T0 + 21)


def test_when_the_requester_uses_a_pending_approval_then_it_says_pending() -> None:
    with pytest.raises(ApprovalPending):
        use_it(pending())


@pytest.mark.parametrize(
    ("changes", "mismatch"),
    [
        ({"actor": Identity("mallory", groups=("dev",))}, "requester"),
        ({"body_sha256": canonical_body_sha256({"model": "llama", "messages": []})}, "body"),
        ({"endpoint": "ollama.chat"}, "endpoint"),  # the same body means another thing there
        ({"rule": "another-rule"}, "rule"),
        ({"policy_version": "q" * 64}, "policy"),
    ],
)
def test_when_a_grant_is_used_for_something_else_then_it_is_a_mismatch(changes: dict[str, Any], mismatch: str) -> None:
    with pytest.raises(ApprovalMismatch) as refused:
        use_it(approved(), **changes)
    assert refused.value.details == {"mismatch": mismatch}


def test_when_another_identity_presents_a_used_approval_then_it_learns_only_mismatch() -> None:
    used = use_it(approved())

    with pytest.raises(ApprovalMismatch):
        use_it(used, actor=EVE)


# the canonical body hash


def test_when_the_same_body_comes_with_its_keys_in_another_order_then_it_hashes_the_same() -> None:
    first = {"model": "llama", "temperature": 0.2, "messages": [{"role": "user", "content": "héllo"}]}
    second = {"messages": [{"content": "héllo", "role": "user"}], "temperature": 0.2, "model": "llama"}

    assert canonical_body_sha256(first) == canonical_body_sha256(second)
    assert len(canonical_body_sha256(first)) == 64


def test_when_a_value_in_the_body_changes_then_the_hash_changes() -> None:
    assert canonical_body_sha256({"a": [1, 2]}) != canonical_body_sha256({"a": [2, 1]})


def test_the_canonical_form_is_compact_sorted_utf8_json() -> None:
    assert canonical_body_sha256({"b": 1, "a": "é"}) == hashlib.sha256('{"a":"é","b":1}'.encode()).hexdigest()


# -- reasons, escalation, break-glass, review --------------------------------------------------------------------

LEADS = Identity("lee", groups=("leads",))
AUDREY = Identity("audrey", groups=("audit",))
SAM_ONCALL = Requester("sam", email="sam@example.com", groups=("dev", "oncall"))


def asking(
    *, reason_from: Any = "none", reason: str = "", escalate_after: float | None = None, requester: Requester = SAM
) -> ApprovalRequest:
    return new_approval(
        requester=requester,
        model="llama",
        endpoint="chat.completions",
        rule="secrets-need-approval",
        reasons=("matched_rule",),
        level="restricted",
        counts={"GITHUB_TOKEN": 1},
        preview="deploy with [GITHUB_TOKEN]",
        body_sha256=BODY,
        policy_version=POLICY,
        approvers=("security",),
        approvals_needed=1,
        grant_seconds=GRANT_S,
        pending_seconds=PENDING_S,
        now=T0,
        requester_reason=reason,
        reason_from=reason_from,
        escalate_to=("leads",) if escalate_after is not None else (),
        escalate_after=escalate_after,
    )


@pytest.mark.parametrize("reason_from", ["requester", "both"])
def test_when_the_rule_asks_the_requester_for_a_reason_then_none_is_refused(reason_from: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        asking(reason_from=reason_from, reason="  ")
    assert info.value.code == "reason_required"
    assert asking(reason_from=reason_from, reason="hotfix").reason_from == reason_from


@pytest.mark.parametrize(
    ("reason_from", "asked"), [("none", False), ("requester", False), ("approver", True), ("both", True)]
)
@pytest.mark.parametrize("decide", [approve, deny])
def test_when_the_rule_asks_approvers_for_a_reason_then_deciding_without_one_is_refused(
    reason_from: str, asked: bool, decide: Callable[..., ApprovalRequest]
) -> None:
    approval = asking(reason_from=reason_from, reason="hotfix")
    if asked:
        with pytest.raises(InvalidRequest) as info:
            decide(approval, ALICE, "", now=T0 + 1)
        assert (info.value.code, info.value.param) == ("reason_required", "reason")
    else:
        assert decide(approval, ALICE, "", now=T0 + 1).state in ("approved", "denied")
    assert decide(approval, ALICE, "checked", now=T0 + 1).history[-1].reason == "checked"


def test_when_an_escalation_falls_due_then_it_is_recorded_once_and_its_groups_may_decide() -> None:
    approval = asking(escalate_after=900.0)
    assert (approval.escalate_to, approval.escalate_at, approval.escalated_at) == (("leads",), T0 + 900, None)
    with pytest.raises(NotAnApprover):
        approve(approval, LEADS, now=T0 + 899)
    assert not escalation_due(approval, T0 + 899)
    with pytest.raises(EscalationNotDue):
        escalate(approval, now=T0 + 899)

    escalated = escalate(approval, now=T0 + 900)

    assert escalated.state == "pending"
    assert escalated.approvers == ("security", "leads")
    assert escalated.escalated_at == T0 + 900
    assert escalated.history[-1] == Transition("pending", SYSTEM, T0 + 900, "escalated to leads")
    with pytest.raises(EscalationNotDue):
        escalate(escalated, now=T0 + 901)  # once only
    assert approve(escalated, LEADS, now=T0 + 901).state == "approved"


@pytest.mark.parametrize("moved", ["approved", "lapsed", "none"])
def test_when_nothing_is_left_to_escalate_then_escalate_refuses(moved: str) -> None:
    approval = asking(escalate_after=900.0) if moved != "none" else asking()
    now = T0 + 1_000
    if moved == "approved":
        approval = approve(approval, ALICE, now=T0 + 10)
    if moved == "lapsed":
        now = T0 + PENDING_S
    assert not escalation_due(approval, now)
    with pytest.raises(ApprovalStateError):
        escalate(approval, now=now)


def test_when_an_escalation_has_groups_without_a_delay_then_it_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="escalation"):
        new_approval(
            requester=SAM, model="m", endpoint="chat.completions", rule="r", reasons=(), level="restricted",
            counts={}, preview="", body_sha256=BODY, policy_version=POLICY, approvers=("security",),
            approvals_needed=1, grant_seconds=1, pending_seconds=1, now=T0, escalate_to=("leads",),
        )  # fmt: skip


def test_when_a_requester_in_a_break_glass_group_breaks_the_glass_then_it_is_approved_by_them_and_under_review() -> (
    None
):
    approval = asking(requester=SAM_ONCALL)

    granted = break_glass(approval, SAM_ONCALL, " prod down ", groups=("oncall",), now=T0 + 5)

    assert (granted.state, granted.approved_by, granted.expires_at) == ("approved", ("sam",), T0 + 5 + GRANT_S)
    assert (granted.break_glass, granted.review) == (True, "pending")
    assert granted.history[-1] == Transition("approved", "sam", T0 + 5, "prod down")
    used = use(
        granted,
        SAM_ONCALL,
        body_sha256=BODY,
        endpoint=granted.endpoint,
        rule=granted.rule,
        policy_version=POLICY,
        now=T0 + 6,
    )
    assert used.state == "used"


def test_when_the_requester_is_in_no_break_glass_group_then_break_glass_not_allowed() -> None:
    with pytest.raises(BreakGlassNotAllowed) as info:
        break_glass(asking(), SAM, "prod down", groups=("oncall",), now=T0)
    assert (info.value.http_status, info.value.code) == (403, "break_glass_not_allowed")


def test_when_the_glass_is_broken_without_a_reason_then_reason_required_at_the_param_given() -> None:
    with pytest.raises(InvalidRequest) as info:
        break_glass(asking(requester=SAM_ONCALL), SAM_ONCALL, " ", groups=("oncall",), now=T0, param="X-Header")
    assert (info.value.code, info.value.param) == ("reason_required", "X-Header")


def test_when_someone_else_breaks_the_glass_then_only_the_requester_may() -> None:
    with pytest.raises(NotTheRequester):
        break_glass(asking(), Identity("olga", groups=("oncall",)), "down", groups=("oncall",), now=T0)


def test_when_a_break_glass_is_acknowledged_then_review_is_done_with_who_when_and_why() -> None:
    granted = break_glass(asking(requester=SAM_ONCALL), SAM_ONCALL, "prod down", groups=("oncall",), now=T0)
    used = use(
        granted,
        SAM_ONCALL,
        body_sha256=BODY,
        endpoint=granted.endpoint,
        rule=granted.rule,
        policy_version=POLICY,
        now=T0 + 1,
    )

    reviewed = acknowledge(used, AUDREY, "INC-7 confirmed", now=T0 + 50, auditor=True)

    assert (reviewed.state, reviewed.review) == ("used", "acknowledged")
    assert (reviewed.reviewed_by, reviewed.reviewed_at, reviewed.review_reason) == (
        "audrey",
        T0 + 50,
        "INC-7 confirmed",
    )
    assert reviewed.history[-1] == Transition("used", "audrey", T0 + 50, "acknowledged: INC-7 confirmed")
    with pytest.raises(NoReviewPending):
        acknowledge(reviewed, ALICE, "again", now=T0 + 60, auditor=False)
    assert acknowledge(used, ALICE, "fine", now=T0 + 50, auditor=False).reviewed_by == "alice"  # an approver


def test_when_acknowledging_is_not_theirs_to_do_then_it_is_refused_with_the_precise_code() -> None:
    granted = break_glass(asking(requester=SAM_ONCALL), SAM_ONCALL, "prod down", groups=("oncall",), now=T0)
    with pytest.raises(SelfReview):
        acknowledge(granted, SAM_ONCALL, "was fine", now=T0 + 1, auditor=True)
    with pytest.raises(NotAnApprover):
        acknowledge(granted, CAROL, "looks fine", now=T0 + 1, auditor=False)
    with pytest.raises(InvalidRequest) as info:
        acknowledge(granted, AUDREY, "", now=T0 + 1, auditor=True)
    assert info.value.code == "reason_required"
    with pytest.raises(NoReviewPending):
        acknowledge(asking(), AUDREY, "nothing to see", now=T0 + 1, auditor=True)


# -- attacks: one person under two logins (an API key whose owner is their email, and an OIDC login) -------------

SAM_BY_KEY = Requester("Sam@Example.com", kind="service")
"""Sam's requests through an API key: the key's subject is its owner, written as Sam's email; a key has no email."""


@pytest.mark.parametrize(
    ("requester", "approver"),
    [
        # asked through the key, approved through the OIDC login (another subject, Sam's email)
        (SAM_BY_KEY, Identity("oidc|8f2c", email="sam@example.com", groups=("security",))),
        # asked through the OIDC login, approved through a key owned by Sam's email
        (SAM, Identity("SAM@example.com", kind="service", groups=("security",))),
    ],
)
def test_when_the_requester_decides_through_a_key_owned_by_their_email_then_it_is_self_approval(
    requester: Requester, approver: Identity
) -> None:
    asked = asking(requester=requester)

    for decide in (approve, deny):
        with pytest.raises(SelfApproval):
            decide(asked, approver, now=T0 + 1)


def test_when_an_approver_approves_again_through_a_key_owned_by_their_email_then_it_is_not_a_second_approver() -> None:
    by_key = Identity("alice@example.com", kind="service", groups=("security",))
    by_login = Identity("oidc|a11c", email="Alice@Example.com", groups=("security",))
    once = approve(pending(needed=2), by_key, now=T0 + 1)

    with pytest.raises(AlreadyApproved):
        approve(once, by_login, now=T0 + 2)
    assert approve(once, BOB, now=T0 + 2).state == "approved"  # a second person still completes it


def test_when_the_requester_reviews_their_break_glass_through_another_login_then_it_is_self_review() -> None:
    olga_by_key = Requester("olga@example.com", kind="service", groups=("dev", "oncall"))
    granted = break_glass(asking(requester=olga_by_key), olga_by_key, "prod down", groups=("oncall",), now=T0)

    with pytest.raises(SelfReview):
        acknowledge(granted, Identity("oidc|01", email="olga@example.com"), "fine", now=T0 + 1, auditor=True)


def test_when_two_people_share_no_name_then_neither_counts_as_the_other() -> None:
    # subjects that are not emails are compared as they are: "sam" and "Sam" are two subjects of one issuer
    approved_by_sam_cased = approve(asking(), Identity("Sam", groups=("security",)), now=T0 + 1)

    assert approved_by_sam_cased.approved_by == ("Sam",)


def test_when_a_pending_approval_is_presented_for_another_body_then_it_is_a_mismatch_not_pending() -> None:
    # a waiter (X-Clearance-Wait) is not held open for an approval it could never spend
    with pytest.raises(ApprovalMismatch) as refused:
        use_it(pending(), body_sha256=canonical_body_sha256({"model": "llama", "messages": []}))
    assert refused.value.details == {"mismatch": "body"}
