"""Decisions, table-driven: who sends what to which model, and what the policy decides and why."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.models import DecisionInput, Identity
from clearance.policy import DEFAULT_RULE, default_policy, evaluate
from clearance.policy import reasons as R
from clearance.policy.compiled import compile_policy
from clearance.policy.load import parse_policy
from clearance.policy.schema import ENDPOINT_NAMES
from tests.policy.sample import SAMPLE, USERS, facts

CARD = {"CREDIT_CARD": 1}
EMAIL = {"EMAIL_ADDRESS": 2}

# (case id, facts kwargs, action, rule, reasons)
TABLE: list[tuple[str, dict[str, Any], str, str, tuple[str, ...]]] = [
    (
        "when_support_sends_nothing_sensitive_then_allowed_by_its_rule",
        {"who": "support"},
        "allow",
        "support-contacts",
        (R.MATCHED_RULE, R.NO_SENSITIVE_DATA),
    ),
    (
        "when_support_sends_an_email_then_masked_by_its_rule",
        {"who": "support", "counts": EMAIL},
        "mask",
        "support-contacts",
        (R.MATCHED_RULE, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_support_sends_a_card_then_masked_as_restricted",
        {"who": "support", "counts": CARD},
        "mask",
        "support-contacts",
        (R.MATCHED_RULE, R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_support_sends_a_custom_internal_type_then_allowed",
        {"who": "support", "counts": {"EMPLOYEE_ID": 3}},
        "allow",
        "support-contacts",
        (R.MATCHED_RULE, R.WITHIN_CLEARANCE),
    ),
    (
        "when_engineering_sends_a_secret_then_approval_required",
        {"who": "engineering", "counts": {"AWS_SECRET_KEY": 1}},
        "require_approval",
        "eng-secrets",
        (R.APPROVAL_REQUIRED, R.MATCHED_RULE, R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_engineering_sends_an_email_then_allowed_by_default",
        {"who": "engineering", "counts": EMAIL},
        "allow",
        "default",
        (R.WITHIN_CLEARANCE,),
    ),
    (
        "when_engineering_sends_a_card_then_masked_by_default",
        {"who": "engineering", "counts": CARD},
        "mask",
        "default",
        (R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_a_card_goes_to_the_external_model_then_blocked_by_rule",
        {"who": "engineering", "model": "gpt-external", "counts": CARD},
        "block",
        "no-restricted-to-external",
        (R.MATCHED_RULE, R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED, R.MODEL_LEVEL_EXCEEDED),
    ),
    (
        "when_an_email_goes_to_the_external_model_then_masked_for_the_model",
        {"who": "engineering", "model": "gpt-external", "counts": EMAIL},
        "mask",
        "default",
        (R.MODEL_LEVEL_EXCEEDED,),
    ),
    (
        "when_security_sends_a_card_then_allowed_by_rule",
        {"who": "security", "counts": CARD},
        "allow",
        "security-anything",
        (R.MATCHED_RULE, R.RESTRICTED_TYPE, R.WITHIN_CLEARANCE),
    ),
    (
        "when_an_allow_rule_meets_the_model_level_then_the_model_level_holds",
        {"who": "security", "model": "gpt-external", "counts": EMAIL},
        "mask",
        "security-anything",
        (R.MATCHED_RULE, R.MODEL_LEVEL_EXCEEDED),
    ),
    (
        "when_a_label_above_the_model_level_cannot_be_masked_then_blocked",
        {"who": "security", "model": "gpt-external", "declared": "confidential"},
        "block",
        "security-anything",
        (R.MATCHED_RULE, R.NO_SENSITIVE_DATA, R.MODEL_LEVEL_EXCEEDED, R.CANNOT_MASK),
    ),
    (
        "when_a_label_above_the_clearance_cannot_be_masked_then_blocked",
        {"who": "support", "declared": "restricted"},
        "block",
        "support-contacts",
        (R.MATCHED_RULE, R.NO_SENSITIVE_DATA, R.CLEARANCE_EXCEEDED, R.CANNOT_MASK),
    ),
    (
        "when_the_default_meets_a_label_above_the_clearance_then_blocked",
        {"who": "engineering", "declared": "restricted"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.CANNOT_MASK, R.NO_SENSITIVE_DATA, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_the_caller_has_no_clearance_then_denied",
        {"who": "marketing"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_IDENTITY),
    ),
    (
        "when_the_model_has_no_level_then_denied",
        {"who": "engineering", "model": "mystery", "upstream": "elsewhere"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_MODEL),
    ),
    (
        "when_only_the_upstream_has_a_level_then_it_applies",
        {"who": "engineering", "model": "mystery", "upstream": "cloud", "counts": EMAIL},
        "mask",
        "default",
        (R.MODEL_LEVEL_EXCEEDED,),
    ),
    (
        "when_a_model_matches_a_glob_then_its_level_applies",
        {"who": "security", "model": "lab-7", "counts": CARD},
        "mask",
        "security-anything",
        (R.MATCHED_RULE, R.RESTRICTED_TYPE, R.MODEL_LEVEL_EXCEEDED),
    ),
    (
        "when_the_label_is_unknown_then_blocked",
        {"who": "engineering", "declared": "secret"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_LABEL),
    ),
    (
        "when_an_unknown_caller_sends_an_unknown_label_then_only_the_caller_is_refused",
        {"who": "marketing", "declared": "secret"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_IDENTITY),
    ),
    (
        "when_detection_finds_more_than_declared_then_detected_level_wins",
        {"who": "engineering", "counts": CARD, "declared": "public"},
        "mask",
        "default",
        (R.LABEL_MISMATCH, R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED),
    ),
    (
        "when_an_embedding_is_mislabelled_then_the_rule_blocks_it",
        {"who": "engineering", "counts": EMAIL, "declared": "public", "endpoint": "embeddings"},
        "block",
        "embeddings-mismatch",
        (R.MATCHED_RULE, R.LABEL_MISMATCH, R.WITHIN_CLEARANCE),
    ),
    (
        "when_anonymous_sends_an_email_then_masked_to_public",
        {"who": "anonymous", "counts": EMAIL},
        "mask",
        "default",
        (R.CLEARANCE_EXCEEDED,),
    ),
    (
        "when_a_service_account_sends_internal_data_then_allowed",
        {"who": "batch-bot", "counts": {"EMPLOYEE_ID": 1}},
        "allow",
        "default",
        (R.WITHIN_CLEARANCE,),
    ),
    (
        "when_a_user_email_differs_in_case_then_still_recognised",
        {"who": "root", "counts": CARD},
        "allow",
        "default",
        (R.RESTRICTED_TYPE, R.WITHIN_CLEARANCE),
    ),
    (
        "when_a_service_subject_equals_a_user_email_then_it_gets_no_user_clearance",
        {"who": "service-named-like-root"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_IDENTITY),
    ),
    (
        "when_a_user_is_named_anonymous_then_it_gets_no_anonymous_clearance",
        {"who": "user-named-anonymous"},
        "block",
        "default",
        (R.DEFAULT_DENY, R.UNKNOWN_IDENTITY),
    ),
    (
        "when_counts_are_zero_then_nothing_was_found",
        {"who": "engineering", "counts": {"CREDIT_CARD": 0}},
        "allow",
        "default",
        (R.NO_SENSITIVE_DATA,),
    ),
    (
        "when_an_unlisted_type_is_found_then_it_is_restricted",
        {"who": "engineering", "counts": {"PROJECT_CODENAME": 1}},
        "mask",
        "default",
        (R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED),
    ),
]


@pytest.mark.parametrize(("kwargs", "action", "rule", "reasons"), [t[1:] for t in TABLE], ids=[t[0] for t in TABLE])
def test_decision_table(kwargs: dict[str, Any], action: str, rule: str, reasons: tuple[str, ...]) -> None:
    decision = evaluate(SAMPLE, facts(**kwargs))
    assert (decision.action, decision.rule, decision.reasons) == (action, rule, reasons)


def test_when_support_email_is_masked_then_placeholder_restored_and_recorded_masked() -> None:
    decision = evaluate(SAMPLE, facts("support", counts=EMAIL))
    assert decision.plan.operator_for("EMAIL_ADDRESS") == "placeholder"
    assert decision.plan.restore is True
    assert decision.record == "masked"
    assert decision.level == "confidential"
    assert decision.counts == EMAIL


def test_when_approval_required_then_the_decision_says_who_approves_and_for_how_long() -> None:
    decision = evaluate(SAMPLE, facts("engineering", counts={"PRIVATE_KEY": 1}))
    assert decision.approval is not None
    assert decision.approval.approvers == ("security",)
    assert decision.approval.approvals == 2
    assert decision.approval.grant_seconds == 8 * 3600
    assert "security" in decision.message
    assert "8h" in decision.message
    assert decision.policy_version == SAMPLE.digest  # an approval is bound to the version that asked for it
    assert evaluate(SAMPLE, facts("engineering", counts=EMAIL)).policy_version == SAMPLE.digest  # recorded too


def test_when_a_rule_blocks_with_a_message_then_the_caller_is_told_it() -> None:
    decision = evaluate(SAMPLE, facts("engineering", "gpt-external", CARD))
    assert decision.message == "restricted data never goes to gpt-external; use llama-internal"


@pytest.mark.parametrize(
    ("who", "fragment"),
    [("marketing", "clearances"), ("engineering", "models")],
    ids=["unknown_identity_names_clearances", "unknown_model_names_models"],
)
def test_when_denied_by_default_then_the_message_says_what_to_do(who: str, fragment: str) -> None:
    model = "mystery" if who == "engineering" else "llama-internal"
    decision = evaluate(SAMPLE, facts(who, model, upstream="elsewhere"))
    assert decision.action == "block"
    assert fragment in decision.message
    assert "policy admin" in decision.message


def test_when_the_declared_label_is_unknown_then_it_is_not_echoed_back() -> None:
    decision = evaluate(SAMPLE, facts("engineering", declared="4111111111111111"))
    assert decision.action == "block"
    assert "4111111111111111" not in decision.message
    assert "public, internal, confidential, restricted" in decision.message


def test_when_a_plan_masks_then_it_covers_types_absent_from_the_request() -> None:
    """The same plan masks the answer: a support caller's answer must not carry a card either."""
    decision = evaluate(SAMPLE, facts("support", counts=EMAIL))
    assert "CREDIT_CARD" not in decision.counts
    assert decision.plan.operator_for("CREDIT_CARD") == "partial"
    assert decision.plan.operator_for("AWS_SECRET_KEY") == "redact"
    assert decision.plan.operator_for("SOME_FUTURE_DETECTOR") == "redact"
    assert decision.plan.operator_for("EMPLOYEE_ID") is None


def test_when_an_allow_rule_grants_past_clearance_then_nothing_is_masked() -> None:
    decision = evaluate(SAMPLE, facts("security", counts=CARD))
    assert not decision.plan.active
    assert decision.record == "full"


def _policy(**extra: Any) -> Any:
    data = {"version": 1, "clearances": [{"groups": ["engineering"], "level": "confidential"}], **extra}
    return compile_policy(parse_policy(data))


def test_when_mismatch_policy_is_block_then_an_underlabelled_request_is_refused() -> None:
    policy = _policy(defaults={"label_mismatch": "block", "unknown_model": "allow"})
    decision = evaluate(policy, facts("engineering", counts=CARD, declared="internal", policy=policy))
    assert (decision.action, decision.reasons) == ("block", (R.DEFAULT_DENY, R.LABEL_MISMATCH))
    assert "label it restricted" in decision.message


def test_when_unknown_callers_and_models_are_allowed_then_their_levels_apply() -> None:
    policy = _policy(
        defaults={
            "unknown_identity": "allow",
            "unknown_identity_level": "internal",
            "unknown_model": "allow",
            "unknown_model_level": "confidential",
        }
    )
    stranger = Identity("x", groups=("nobody",))
    decision = evaluate(policy, facts(stranger, "anything", EMAIL, policy=policy))
    assert (decision.action, decision.reasons) == ("mask", (R.CLEARANCE_EXCEEDED,))
    known = evaluate(policy, facts("engineering", "anything", EMAIL, policy=policy))
    assert known.action == "allow"
    card = evaluate(policy, facts("engineering", "anything", CARD, policy=policy))
    assert card.reasons == (R.RESTRICTED_TYPE, R.CLEARANCE_EXCEEDED, R.MODEL_LEVEL_EXCEEDED)


def test_when_unknown_models_are_allowed_without_a_level_then_they_get_the_lowest() -> None:
    policy = _policy(defaults={"unknown_model": "allow"})
    decision = evaluate(policy, facts("engineering", "anything", EMAIL, policy=policy))
    assert (decision.action, decision.reasons) == ("mask", (R.MODEL_LEVEL_EXCEEDED,))


def test_when_unlisted_types_are_set_lower_then_they_pass() -> None:
    policy = _policy(
        unlisted_type_level="internal", defaults={"unknown_model": "allow", "unknown_model_level": "restricted"}
    )
    decision = evaluate(policy, facts("engineering", counts={"PROJECT_CODENAME": 1}, policy=policy))
    assert decision.action == "allow"
    assert decision.plan.operator_for("PROJECT_CODENAME") is None


def test_when_masking_operators_are_overridden_then_plans_use_them() -> None:
    policy = _policy(
        masking={"operators": {"CREDIT_CARD": "hash"}, "default_operator": "placeholder", "restore": True},
        defaults={"unknown_model": "allow", "unknown_model_level": "restricted"},
    )
    decision = evaluate(policy, facts("engineering", counts=CARD, policy=policy))
    assert decision.plan.operator_for("CREDIT_CARD") == "hash"
    assert decision.plan.operator_for("AWS_SECRET_KEY") == "redact"
    assert decision.plan.operator_for("UNNAMED_TYPE") == "placeholder"
    assert decision.plan.restore is True


def test_when_a_rule_names_no_one_then_it_applies_to_everyone_with_a_clearance() -> None:
    policy = _policy(
        rules=[{"id": "no-embeddings", "when": {"endpoints": ["embeddings", "ollama.*"]}, "action": "block"}],
        defaults={"unknown_model": "allow"},
    )
    for endpoint in ("embeddings", "ollama.embed", "ollama.chat"):
        decision = evaluate(policy, facts("engineering", endpoint=endpoint, policy=policy))
        assert decision.rule == "no-embeddings"
    assert evaluate(policy, facts("engineering", policy=policy)).rule == "default"
    # a rule never lets in someone without a clearance
    assert evaluate(policy, facts("marketing", endpoint="embeddings", policy=policy)).reasons == (
        R.DEFAULT_DENY,
        R.UNKNOWN_IDENTITY,
    )


@pytest.mark.parametrize(
    ("when", "kwargs", "matches"),
    [
        ({"max_level": "internal"}, {"counts": EMAIL}, False),
        ({"max_level": "confidential"}, {"counts": EMAIL}, True),
        ({"declared": ["internal"]}, {"declared": "internal"}, True),
        ({"declared": ["internal"]}, {}, False),
        ({"label_mismatch": False}, {"declared": "confidential", "counts": EMAIL}, True),
        ({"label_mismatch": False}, {"declared": "public", "counts": EMAIL}, False),
        ({"upstreams": ["local"]}, {}, True),
        ({"upstreams": ["cloud"]}, {}, False),
        ({"users": ["EVE@example.com"]}, {}, True),
        ({"service_accounts": ["eve@example.com"]}, {}, False),
        ({"types": ["PHONE_NUMBER"]}, {"counts": EMAIL}, False),
    ],
)
def test_when_rule_conditions_are_checked_then_each_one_counts(
    when: dict[str, Any], kwargs: dict[str, Any], matches: bool
) -> None:
    policy = _policy(
        rules=[{"id": "r", "when": when, "action": "allow"}],
        defaults={"unknown_model": "allow", "unknown_model_level": "restricted"},
    )
    decision = evaluate(policy, facts("engineering", policy=policy, **kwargs))
    assert (decision.rule == "r") is matches


def test_when_the_caller_level_is_higher_than_the_counts_say_then_the_higher_wins() -> None:
    base = facts("engineering", counts=EMAIL)
    decision = evaluate(SAMPLE, type(base)(**{**_fields(base), "level": "restricted"}))
    assert decision.level == "restricted"
    foreign = evaluate(SAMPLE, type(base)(**{**_fields(base), "level": "no-such-level"}))
    assert foreign.level == "confidential"


def _fields(value: Any) -> dict[str, Any]:
    return {name: getattr(value, name) for name in value.__slots__}


# -- properties -------------------------------------------------------------------------------------------------

TYPES = ["CREDIT_CARD", "EMAIL_ADDRESS", "AWS_SECRET_KEY", "EMPLOYEE_ID", "PERSON", "IBAN_CODE", "CUSTOM_THING"]
identities = st.one_of(
    st.sampled_from(sorted(USERS.values(), key=lambda i: i.subject)),
    st.builds(
        Identity,
        subject=st.text(max_size=12),
        kind=st.sampled_from(["user", "service", "anonymous"]),
        email=st.none() | st.emails(),
        groups=st.lists(st.sampled_from(["support", "engineering", "security", "x"]), max_size=3).map(tuple),
    ),
)
inputs = st.builds(
    DecisionInput,
    identity=identities,
    model=st.sampled_from(["llama-internal", "gpt-external", "lab-1", "mystery"]),
    upstream=st.sampled_from(["local", "cloud", "elsewhere"]),
    endpoint=st.sampled_from([*ENDPOINT_NAMES, "unknown"]),
    counts=st.dictionaries(
        st.sampled_from(TYPES) | st.from_regex(r"[A-Z][A-Z_]{0,8}", fullmatch=True), st.integers(0, 3)
    ),
    level=st.sampled_from(["public", "internal", "confidential", "restricted", "", "bogus"]),
    declared=st.none() | st.sampled_from(["public", "internal", "confidential", "restricted", "top-secret"]),
)
POLICIES = [SAMPLE, default_policy()]


@settings(max_examples=300, deadline=None)
@given(facts_=inputs, which=st.sampled_from(range(len(POLICIES))))
def test_every_decision_has_reasons_and_a_rule(facts_: DecisionInput, which: int) -> None:
    policy = POLICIES[which]
    decision = evaluate(policy, facts_)
    assert decision.reasons, "a decision without a reason"
    assert set(decision.reasons) <= set(R.ALL)
    assert decision.rule in {DEFAULT_RULE, *(r.id for r in policy.rules)}
    assert decision.level in policy.levels
    if decision.action in ("block", "require_approval"):
        assert decision.message
    if decision.rule == DEFAULT_RULE and decision.action == "block":
        assert decision.reasons[0] == R.DEFAULT_DENY


@settings(max_examples=300, deadline=None)
@given(facts_=inputs, which=st.sampled_from(range(len(POLICIES))))
def test_nothing_above_the_model_level_is_ever_sent_unmasked(facts_: DecisionInput, which: int) -> None:
    """Security property: whatever the rules say, a type above what the model may receive is masked (or the
    request is not sent); and a mask decision means something in the request is masked."""
    policy = POLICIES[which]
    decision = evaluate(policy, facts_)
    if decision.action not in ("allow", "mask"):
        return
    ceiling = policy.ceiling(facts_.model, facts_.upstream)
    limit = ceiling if ceiling is not None else policy.unknown_model_rank
    present = [t for t, n in facts_.counts.items() if n > 0]
    for entity_type in present:
        if policy.type_level(entity_type) > limit:
            assert decision.plan.operator_for(entity_type) is not None, entity_type
    masked_something = any(decision.plan.operator_for(t) for t in present)
    assert (decision.action == "mask") is masked_something
