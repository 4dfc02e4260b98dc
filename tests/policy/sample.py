"""A policy that exercises every kind of rule, and a helper to build decision inputs for it."""

from __future__ import annotations

from collections.abc import Mapping

from clearance.models import DecisionInput, Identity
from clearance.policy import Policy
from clearance.policy.compiled import compile_policy
from clearance.policy.load import read_policy_text

SAMPLE_YAML = """
version: 1
types:
  EMPLOYEE_ID: internal
clearances:
  - groups: [support]
    level: internal
  - groups: [engineering]
    level: confidential
  - groups: [security]
    level: restricted
    roles: [user, approver]
  - users: [Root@Example.com]
    level: restricted
    roles: [admin]
  - service_accounts: [batch-bot]
    level: internal
  - anonymous: true
    level: public
models:
  - name: llama-internal
    max_level: restricted
  - name: gpt-external
    max_level: public
  - name: "lab-*"
    max_level: confidential
upstreams:
  - name: cloud
    max_level: internal
rules:
  - id: no-restricted-to-external
    when: {models: [gpt-external], min_level: restricted}
    action: block
    message: restricted data never goes to gpt-external; use llama-internal
  - id: eng-secrets
    when: {groups: [engineering], types: [AWS_SECRET_KEY, PRIVATE_KEY], models: [llama-internal]}
    action: require_approval
    approval: {approvers: [security], approvals: 2, grant_for: 8h}
  - id: support-contacts
    when: {groups: [support], models: [llama-internal]}
    action: mask
    mask: {operators: {EMAIL_ADDRESS: placeholder}, restore: true}
    record: masked
  - id: security-anything
    when: {groups: [security]}
    action: allow
    record: full
  - id: embeddings-mismatch
    when: {endpoints: [embeddings], label_mismatch: true}
    action: block
"""

SAMPLE: Policy = compile_policy(read_policy_text(SAMPLE_YAML, source="sample"), SAMPLE_YAML)

USERS: Mapping[str, Identity] = {
    "support": Identity("u-support", email="sam@example.com", groups=("support",)),
    "engineering": Identity("u-eng", email="eve@example.com", groups=("engineering",)),
    "security": Identity("u-sec", email="sec@example.com", groups=("security",)),
    "root": Identity("u-root", email="root@EXAMPLE.com"),
    "marketing": Identity("u-mkt", email="mo@example.com", groups=("marketing",)),
    "batch-bot": Identity("batch-bot", kind="service"),
    "anonymous": Identity.anonymous(),
    "service-named-like-root": Identity("root@example.com", kind="service"),
    "user-named-anonymous": Identity("anonymous", kind="user"),
}


def facts(
    who: str | Identity,
    model: str = "llama-internal",
    counts: Mapping[str, int] | None = None,
    *,
    declared: str | None = None,
    upstream: str = "local",
    endpoint: str = "chat.completions",
    policy: Policy = SAMPLE,
) -> DecisionInput:
    counts = dict(counts or {})
    return DecisionInput(
        identity=USERS[who] if isinstance(who, str) else who,
        model=model,
        upstream=upstream,
        endpoint=endpoint,
        counts=counts,
        level=policy.classify(counts),
        declared=declared,
    )
