"""A request tried, not sent: the text placed where each endpoint's client puts it, decided by the stage it is
given (the live policy or a draft, on the same detection), and the text as it would be sent, masked."""

from __future__ import annotations

import pytest

from clearance.detect import Scanner
from clearance.endpoints import MODEL_ENDPOINTS, Endpoint
from clearance.enforce.inspector import Inspector
from clearance.enforce.trial import (
    declared_label,
    endpoint_named,
    request_body,
    sent_text,
    trial_caller,
    try_request,
)
from clearance.exceptions import InvalidRequest
from clearance.models import Identity
from clearance.policy import compile_policy, default_policy, evaluate
from clearance.policy.load import read_policy_text

SCANNER = Scanner.from_config(None)
CARD = "4111 1111 1111 1111"
BLOCK_CARDS = """version: 1
clearances: [{groups: [payments], level: restricted}]
defaults: {unknown_model: allow, unknown_model_level: restricted}
rules: [{id: no-cards, when: {types: [CREDIT_CARD]}, action: block}]
"""


def stage_for(policy_text: str | None) -> Inspector:
    policy = default_policy() if policy_text is None else compile_policy(read_policy_text(policy_text), policy_text)
    return Inspector(
        scan=SCANNER.scan, classify=policy.classify, decide=lambda facts: evaluate(policy, facts), hash_key=b"k"
    )


@pytest.mark.parametrize("endpoint", MODEL_ENDPOINTS, ids=lambda e: e.name)
def test_when_a_body_is_made_for_any_endpoint_then_its_text_reads_back(endpoint: Endpoint) -> None:
    target = endpoint_named(endpoint.name)
    body = request_body(target, "m", "hello")
    assert body["model"] == "m" and sent_text(target, body) == "hello"


def test_when_the_default_policy_tries_a_card_then_it_is_masked_in_the_text_sent() -> None:
    trial = try_request(
        stage_for(None), endpoint_named("chat.completions"), f"card {CARD}", identity=Identity.anonymous(), model="m"
    )
    assert trial.decision.action == "mask" and trial.decision.counts == {"CREDIT_CARD": 1}
    assert trial.sent is not None and CARD not in trial.sent and trial.sent.startswith("card ")


def test_when_a_draft_stage_decides_then_the_same_detection_gives_its_decision_and_nothing_is_sent() -> None:
    live = stage_for(None)
    draft = compile_policy(read_policy_text(BLOCK_CARDS), BLOCK_CARDS)
    under_draft = live.deciding_by(draft.classify, lambda facts: evaluate(draft, facts))
    payments = trial_caller("pat@example.com", None, ["payments"])

    trial = try_request(under_draft, endpoint_named("embeddings"), f"card {CARD}", identity=payments, model="m")

    assert (trial.decision.action, trial.decision.rule, trial.sent) == ("block", "no-cards", None)
    assert trial.decision.policy_version == draft.digest


def test_when_callers_are_given_then_users_services_and_anonymous_are_told_apart() -> None:
    user = trial_caller("Pat@Example.com", None, [" payments ", ""])
    assert (user.subject, user.kind, user.email, user.groups) == (
        "Pat@Example.com",
        "user",
        "Pat@Example.com",
        ("payments",),
    )
    assert trial_caller("u-123", None, [], "pat@example.com").email == "pat@example.com"
    assert trial_caller(None, "ci-bot", ["ci"]).kind == "service"
    assert trial_caller(None, None, []) == Identity.anonymous()
    for user_name, service, groups in (("a", "b", []), (None, None, ["g"])):
        with pytest.raises(InvalidRequest):
            trial_caller(user_name, service, groups)


def test_when_an_endpoint_is_unknown_or_a_label_blank_then_they_are_refused_or_dropped() -> None:
    with pytest.raises(InvalidRequest, match=r"chat\.completions"):
        endpoint_named("chat")
    assert (declared_label("  Restricted "), declared_label("  "), declared_label(None)) == ("restricted", None, None)
