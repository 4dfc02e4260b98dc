"""The example policies behave as their comments say: each ``# check:`` line in them is a case here."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearance.models import DecisionInput, Identity
from clearance.policy import Policy, compile_policy, evaluate, load_policy
from clearance.policy.load import read_policy_text

EXAMPLES = Path(__file__).parents[2] / "examples" / "policies"
FILES = sorted(EXAMPLES.glob("*.yaml"))


def checks() -> list[tuple[Path, str]]:
    found = []
    for path in FILES:
        for line in path.read_text().splitlines():
            if line.startswith("# check:"):
                found.append((path, line.removeprefix("# check:").strip()))
    return found


def _pairs(tokens: list[str]) -> dict[str, str]:
    return dict(token.split("=", 1) for token in tokens)


def _facts(policy: Policy, given: dict[str, str]) -> DecisionInput:
    groups = tuple(given["groups"].split(",")) if "groups" in given else ()
    if "service" in given:
        identity = Identity(given["service"], kind="service", groups=groups)
    else:
        user = given.get("user", "someone@example.com")
        identity = Identity(user, email=user, groups=groups)
    counts = dict.fromkeys(given["found"].split(","), 1) if "found" in given else {}
    return DecisionInput(
        identity=identity,
        model=given.get("model", "llama-internal"),
        upstream=given.get("upstream", "local"),
        endpoint=given.get("endpoint", "chat.completions"),
        counts=counts,
        level=policy.classify(counts),
        declared=given.get("label"),
    )


def test_every_example_is_valid_and_promises_something() -> None:
    assert len(FILES) >= 3
    for path in FILES:
        load_policy(path)
        assert sum(1 for p, _ in checks() if p == path) >= 5, f"{path.name} has too few check lines"


@pytest.mark.parametrize(("path", "check"), checks(), ids=[f"{p.stem}: {c}" for p, c in checks()])
def test_example_behaves_as_its_comment_says(path: Path, check: str) -> None:
    given_text, expected_text = check.split("->")
    policy = load_policy(path)
    decision = evaluate(policy, _facts(policy, _pairs(given_text.split())))
    action, *rest = expected_text.split()
    expected = _pairs(rest)
    assert decision.action == action, decision
    assert decision.rule == expected.get("rule", decision.rule)
    for reason in expected.get("reasons", "").split(","):
        assert not reason or reason in decision.reasons, decision.reasons
    for pair in expected.get("masks", "").split(","):
        if pair:
            entity_type, operator = pair.split(":")
            assert decision.plan.operator_for(entity_type) == operator, entity_type
    for entity_type in expected.get("keeps", "").split(","):
        assert not entity_type or decision.plan.operator_for(entity_type) is None, entity_type
    if "restore" in expected:
        assert decision.plan.restore is (expected["restore"] == "yes")
    if "record" in expected:
        assert decision.record == expected["record"]
    if "approvers" in expected:
        assert decision.approval is not None
        assert decision.approval.approvers == tuple(expected["approvers"].split(","))
        assert all(group in decision.message for group in decision.approval.approvers)
    if action in ("block", "require_approval"):
        assert decision.message


def test_the_annotated_example_in_the_docs_is_valid_and_decides_as_described() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "policy.md").read_text()
    block = docs.split("## The file, annotated")[1].split("```yaml\n")[1].split("```")[0]
    policy = compile_policy(read_policy_text(block, source="docs/policy.md"), block)
    assert [r.id for r in policy.rules] == [
        "no-restricted-outside",
        "engineering-secrets",
        "support-tickets",
        "mislabelled-embeddings",
    ]
    support = _facts(policy, {"groups": "support", "found": "EMAIL_ADDRESS,PERSON"})
    decision = evaluate(policy, support)
    assert decision.rule == "support-tickets"
    assert decision.plan.operator_for("EMAIL_ADDRESS") == "placeholder"
    assert decision.plan.operator_for("PERSON") == "hash"
    assert policy.classify({"EMPLOYEE_ID": 1}) == "internal"
