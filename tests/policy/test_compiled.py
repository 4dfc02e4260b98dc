"""The compiled policy: who has which clearance, what each model may receive, what a type's level is."""

from __future__ import annotations

import pytest

from clearance.models import ApprovalRequirement, Identity
from clearance.policy.compiled import Names, compile_policy
from clearance.policy.load import parse_policy
from tests.policy.sample import SAMPLE, USERS


@pytest.mark.parametrize(
    ("counts", "level"),
    [
        ({}, "public"),
        ({"EMPLOYEE_ID": 1}, "internal"),
        ({"EMPLOYEE_ID": 1, "PHONE_NUMBER": 1}, "confidential"),
        ({"PHONE_NUMBER": 1, "IBAN_CODE": 2}, "restricted"),
        ({"IBAN_CODE": 0}, "public"),
        ({"BRAND_NEW_TYPE": 1}, "restricted"),
    ],
)
def test_when_counts_are_classified_then_the_highest_level_wins(counts: dict[str, int], level: str) -> None:
    assert SAMPLE.classify(counts) == level


@pytest.mark.parametrize(
    ("who", "level", "roles"),
    [
        ("support", "internal", {"user"}),
        ("security", "restricted", {"user", "approver"}),
        ("root", "restricted", {"admin"}),
        ("batch-bot", "internal", {"user"}),
        ("anonymous", "public", {"user"}),
        ("marketing", None, set()),
    ],
)
def test_when_an_identity_is_resolved_then_its_clearance_and_roles_follow(
    who: str, level: str | None, roles: set[str]
) -> None:
    grant = SAMPLE.clearance(USERS[who])
    assert (SAMPLE.levels[grant.rank] if grant else None) == level
    assert SAMPLE.roles(USERS[who]) == roles


def test_when_several_clearances_select_a_caller_then_the_highest_and_all_roles_apply() -> None:
    both = Identity("u-both", email="root@example.com", groups=("support", "security"))
    grant = SAMPLE.clearance(both)
    assert grant is not None
    assert SAMPLE.levels[grant.rank] == "restricted"
    assert grant.roles == {"user", "approver", "admin"}


def test_when_the_same_group_is_cleared_twice_then_the_higher_level_counts() -> None:
    policy = compile_policy(
        parse_policy(
            {
                "version": 1,
                "clearances": [
                    {"groups": ["g"], "level": "confidential", "roles": ["auditor"]},
                    {"groups": ["g"], "level": "internal"},
                ],
            }
        )
    )
    grant = policy.clearance(Identity("x", groups=("g",)))
    assert grant is not None
    assert (policy.levels[grant.rank], grant.roles) == ("confidential", frozenset({"auditor", "user"}))


@pytest.mark.parametrize(
    ("model", "upstream", "level"),
    [
        ("llama-internal", "local", "restricted"),
        ("llama-internal", "cloud", "internal"),
        ("gpt-external", "cloud", "public"),
        ("lab-42", "local", "confidential"),
        ("lab", "local", None),
        ("anything", "cloud", "internal"),
    ],
)
def test_when_a_model_is_resolved_then_the_lower_of_model_and_upstream_applies(
    model: str, upstream: str, level: str | None
) -> None:
    ceiling = SAMPLE.ceiling(model, upstream)
    assert (SAMPLE.levels[ceiling] if ceiling is not None else None) == level


def test_when_names_mix_exact_names_and_globs_then_both_match() -> None:
    names = Names.of(["llama-internal", "lab-*", "m?"])
    assert "llama-internal" in names
    assert "lab-1" in names
    assert "m1" in names
    assert "m12" not in names
    assert "llama" not in names
    assert 3 not in names


def test_when_plans_are_compiled_then_one_per_level_masks_everything_above_it() -> None:
    public, internal, confidential, restricted = SAMPLE.plans
    assert public.operator_for("EMPLOYEE_ID") is not None
    assert internal.operator_for("EMPLOYEE_ID") is None
    assert internal.operator_for("EMAIL_ADDRESS") == "placeholder"
    assert confidential.operator_for("EMAIL_ADDRESS") is None
    assert confidential.operator_for("CREDIT_CARD") == "partial"
    assert confidential.operator_for("NOT_IN_THE_POLICY") == "redact"
    assert not restricted.active
    assert restricted.operator_for("NOT_IN_THE_POLICY") is None


def test_when_users_are_named_then_emails_ignore_case_and_subjects_do_not() -> None:
    policy = compile_policy(
        parse_policy({"version": 1, "clearances": [{"users": ["Ana@Example.com", "00uAbC"], "level": "internal"}]})
    )
    assert policy.clearance(Identity("x", email="ana@example.COM")) is not None
    assert policy.clearance(Identity("ANA@EXAMPLE.COM")) is not None
    assert policy.clearance(Identity("00uAbC")) is not None
    assert policy.clearance(Identity("00uabc")) is None
    assert policy.clearance(Identity("00uAbC", kind="service")) is None


def test_when_an_approval_rule_is_compiled_then_its_requirement_carries_reason_escalation_and_break_glass() -> None:
    policy = compile_policy(
        parse_policy(
            {
                "version": 1,
                "rules": [
                    {
                        "id": "r",
                        "action": "require_approval",
                        "approval": {
                            "approvers": ["security"],
                            "approvals": 2,
                            "grant_for": "1h",
                            "reason": "approver",
                            "escalate": {"to": ["leads"], "after": "15m"},
                            "break_glass": {"groups": ["oncall"]},
                        },
                    },
                    {"id": "plain", "action": "require_approval", "approval": {"approvers": ["security"]}},
                ],
            }
        )
    )
    full, plain = (rule.approval for rule in policy.rules)
    assert full == ApprovalRequirement(("security",), 2, 3600.0, "approver", ("leads",), 900.0, ("oncall",))
    assert not full.requester_reason_required
    assert plain == ApprovalRequirement(("security",))
    assert (plain.reason_from, plain.escalate_to, plain.escalate_after, plain.break_glass_groups) == (
        "none",
        (),
        None,
        (),
    )


LIMITED = compile_policy(
    parse_policy(
        {
            "version": 1,
            "clearances": [
                {"groups": ["contractors"], "level": "public", "limits": {"requests_per_minute": 20}},
                {
                    "groups": ["staff"],
                    "level": "internal",
                    "limits": {"requests_per_minute": 100, "concurrent_streams": 4},
                },
                {"users": ["ada@example.com"], "level": "internal", "limits": {"requests_per_minute": 5}},
                {"service_accounts": ["batch-bot"], "level": "internal", "limits": {"tokens_per_minute": 9000}},
                {"groups": ["auditors"], "level": "internal"},
            ],
        }
    )
)


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (Identity("u1", groups=("contractors",)), {"requests_per_minute": 20}),
        # two groups: the more generous of each limit
        (Identity("u2", groups=("contractors", "staff")), {"requests_per_minute": 100, "concurrent_streams": 4}),
        # named by user: before the groups, even when stricter; the groups still give what the user's does not set
        (
            Identity("u3", email="Ada@example.com", groups=("staff",)),
            {"requests_per_minute": 5, "concurrent_streams": 4},
        ),
        (Identity("batch-bot", kind="service", key_id="k1"), {"tokens_per_minute": 9000}),
        (Identity("u4", groups=("auditors",)), None),
        (Identity("u5"), None),
    ],
)
def test_when_clearances_set_limits_then_the_caller_gets_them_by_precedence(
    identity: Identity, expected: dict[str, int] | None
) -> None:
    found = LIMITED.limits_for(identity)
    assert (found.model_dump(exclude_none=True) if found is not None else None) == expected
