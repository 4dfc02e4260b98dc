"""The policy resources built from a compiled policy, a stored version and a replay report."""

from __future__ import annotations

from clearance.admin.policy_resources import PolicyResource, PolicyVersionResource, TrialDecision, WhatIf
from clearance.audit.policy_versions import PolicyVersion
from clearance.models import Decision
from clearance.policy import compile_policy
from clearance.policy.load import read_policy_text
from clearance.policy.replay import Change, ReplayReport

TEXT = """version: 1
levels: [public, {name: secret, types: [CREDIT_CARD]}]
clearances: [{groups: [ops], level: secret, roles: [user, auditor]}]
models: [{name: "llama-*", max_level: secret}]
upstreams: [{name: hosted, max_level: public}]
rules:
  - {id: first, when: {groups: [ops], min_level: secret}, action: mask, record: full}
  - {id: second, action: block, message: ask ops}
"""


def test_when_a_policy_is_summarised_then_rules_keep_their_order_conditions_and_record_mode() -> None:
    policy = compile_policy(read_policy_text(TEXT), TEXT)

    resource = PolicyResource.of(policy, "/p.yaml", 12.0)

    assert (resource.digest, resource.source, resource.loaded_at) == (policy.digest, "/p.yaml", 12.0)
    assert [(lv.name, lv.types) for lv in resource.levels] == [("public", []), ("secret", ["CREDIT_CARD"])]
    assert resource.unlisted_type_level == "secret"
    assert [(c.kind, c.name, c.max_level) for c in resource.ceilings] == [
        ("model", "llama-*", "secret"),
        ("upstream", "hosted", "public"),
    ]
    assert [(r.position, r.id, r.when, r.action, r.record, r.message) for r in resource.rules] == [
        (1, "first", {"groups": ["ops"], "min_level": "secret"}, "mask", "full", ""),
        (2, "second", {}, "block", "metadata", "ask ops"),
    ]
    assert resource.clearances[0].roles == ["user", "auditor"]
    assert resource.defaults["unknown_identity"] == "deny" and resource.text == TEXT


def test_when_a_version_is_shown_then_it_says_whether_it_is_live() -> None:
    version = PolicyVersion("a" * 64, "/p.yaml", 1.0, 2.0, "gw", "version: 1\n")
    assert PolicyVersionResource.of(version, "a" * 64).live is True
    assert PolicyVersionResource.of(version, "b" * 64).live is False


def test_when_a_decision_and_a_replay_are_shown_then_types_are_sorted_and_changes_counted() -> None:
    decision = Decision("mask", "r", ("restricted_type",), "secret", counts={"US_SSN": 1, "CREDIT_CARD": 2})
    shown = TrialDecision.of(decision, "masked text")
    assert list(shown.types) == ["CREDIT_CARD", "US_SSN"] and shown.sent == "masked text"

    report = ReplayReport(5, 1, 2, 0, (Change(("allow", "default"), ("block", "second"), 3, (1, 2, 3)),))
    what_if = WhatIf.of(report, 1000)
    assert (what_if.read, what_if.decided, what_if.changed, what_if.window) == (6, 5, 3, 1000)
    assert what_if.changes[0].to_rule == "second"
