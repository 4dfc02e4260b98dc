"""The policy in force with no policy file: restricted data masked both ways, nothing else touched."""

from __future__ import annotations

from collections import Counter

import pytest

from clearance import scan
from clearance.entities import ENTITY_TYPES
from clearance.mask.masker import Masker
from clearance.models import Identity
from clearance.policy import default_policy, evaluate
from clearance.policy import reasons as R
from tests.policy.sample import facts

POLICY = default_policy()
FINANCIAL_TYPES = [e.name for e in ENTITY_TYPES if e.category == "financial"]
SECRET_TYPES = [e.name for e in ENTITY_TYPES if e.category == "secret"]
TOKEN = "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"


def decide(text: str, who: Identity | str = "anonymous") -> tuple[str, Masker, str]:
    findings = scan(text)
    decision = evaluate(POLICY, facts(who, "any-model", Counter(f.type for f in findings), policy=POLICY))
    masker = Masker(decision.plan, scan, b"k" * 32)
    return decision.action, masker, masker.apply(text, findings)


def test_when_no_policy_then_a_card_and_a_key_are_masked_and_an_email_is_not() -> None:
    text = f"card 4111-1111-1111-1111, key {TOKEN}, mail jane.doe@acme.io"
    action, _, sent = decide(text)
    assert action == "mask"
    assert sent == "card XXXX-XXXX-XXXX-1111, key [GITHUB_TOKEN], mail jane.doe@acme.io"


def test_when_no_policy_then_answers_are_masked_even_for_types_not_in_the_request() -> None:
    action, masker, _ = decide("hello")
    assert action == "allow"
    answer = masker.outgoing(f"your card is 4111-1111-1111-1111, mail jane.doe@acme.io, token {TOKEN}")
    assert answer == "your card is XXXX-XXXX-XXXX-1111, mail jane.doe@acme.io, token [GITHUB_TOKEN]"
    assert not masker.plan.restore


@pytest.mark.parametrize(
    "who",
    ["anonymous", Identity("someone", email="x@example.com", groups=("anything",)), Identity("bot", kind="service")],
)
def test_when_no_policy_then_every_caller_and_model_is_allowed(who: Identity | str) -> None:
    decision = evaluate(POLICY, facts(who, "whatever-model", {"EMAIL_ADDRESS": 1}, upstream="u", policy=POLICY))
    assert (decision.action, decision.rule, decision.reasons) == ("allow", "default", (R.WITHIN_CLEARANCE,))


def test_when_no_policy_then_every_restricted_type_and_unknown_types_are_in_the_plan() -> None:
    plan = evaluate(POLICY, facts("anonymous", "m", policy=POLICY)).plan
    assert all(plan.operator_for(t) == "partial" for t in FINANCIAL_TYPES)
    assert all(plan.operator_for(t) == "redact" for t in SECRET_TYPES)
    assert plan.operator_for("A_CUSTOM_DETECTOR_TYPE") == "redact"
    assert all(plan.operator_for(t) is None for t in ("EMAIL_ADDRESS", "PHONE_NUMBER", "IP_ADDRESS", "PERSON"))


def test_when_no_policy_then_a_label_that_cannot_be_masked_is_refused() -> None:
    decision = evaluate(POLICY, facts("anonymous", "m", declared="restricted", policy=POLICY))
    assert decision.action == "block"
    assert R.CANNOT_MASK in decision.reasons
