"""Recorded decisions evaluated again under another policy: what changes, from what to what, with examples; what
is skipped; and why the caller's kind had to be recorded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clearance.models import DecisionInput, Identity, IdentityKind
from clearance.policy import Policy, evaluate
from clearance.policy.compiled import compile_policy
from clearance.policy.load import read_policy_text
from clearance.policy.replay import Change, replay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "policies" / "engineering-secrets-approval.yaml"
RULE_FOR_ENGINEERS = "    when:\n      groups: [engineering]\n      types:"


def policy(text: str) -> Policy:
    return compile_policy(read_policy_text(text), text)


def old_text() -> str:
    text = EXAMPLE.read_text()
    assert RULE_FOR_ENGINEERS in text
    return text


def new_text() -> str:
    """The example with its approval rule for contractors instead of engineers."""
    return old_text().replace(RULE_FOR_ENGINEERS, "    when:\n      groups: [contractors]\n      types:")


def row(
    record_id: int, counts: dict[str, int], *, kind: IdentityKind | None = "user", auth: str = "oidc", **extra: Any
) -> dict[str, Any]:
    """A record as the gateway writes it: its decision is the old policy's for these inputs."""
    subject = extra.pop("subject", f"user-{record_id}")
    groups = extra.pop("groups", ["engineering"])
    base = {"id": record_id, "subject": subject, "identity_kind": kind, "auth_method": auth, "email": None,
            "groups": groups, "key_id": None, "model": "llama-internal", "upstream": "fake",
            "endpoint": "chat.completions", "findings": counts, "declared_label": None}  # fmt: skip
    old = policy(old_text())
    decided = evaluate(
        old,
        DecisionInput(
            Identity(subject, kind or "user", groups=tuple(groups)), "llama-internal", "fake", "chat.completions",
            counts, old.classify(counts),
        ),
    )  # fmt: skip
    return {**base, "decision": decided.action, "rule": decided.rule, **extra}


def test_when_a_rule_no_longer_selects_engineers_then_their_secrets_decisions_change_and_the_rest_do_not() -> None:
    rows = [
        *(row(i, {"GITHUB_TOKEN": 1}) for i in (1, 2, 3, 4)),
        row(5, {"EMAIL_ADDRESS": 1}),
        row(6, {}),
        {**row(7, {}), "decision": None, "rule": None},  # refused before the policy decided
    ]
    assert (rows[0]["decision"], rows[0]["rule"]) == ("require_approval", "secrets-need-approval")

    report = replay(policy(new_text()), rows)

    assert (report.decided, report.undecided, report.unchanged, report.changed) == (6, 1, 2, 4)
    assert report.changes == (Change(("require_approval", "secrets-need-approval"), ("mask", "default"), 4, (1, 2, 3)),)
    assert report.inferred_kind == 0


def test_when_the_same_policy_replays_its_own_decisions_then_nothing_changes() -> None:
    rows = [row(1, {"GITHUB_TOKEN": 1}), row(2, {"CREDIT_CARD": 1}), row(3, {})]

    report = replay(policy(old_text()), rows)

    assert (report.decided, report.unchanged, report.changes) == (3, 3, ())


def test_when_a_service_account_is_replayed_then_its_recorded_kind_decides_and_an_inferred_one_is_counted() -> None:
    text = old_text().replace("clearances:\n", "clearances:\n  - service_accounts: [ci-bot]\n    level: internal\n")
    service = {**row(1, {}, subject="ci-bot", groups=[]), "identity_kind": "service", "decision": "allow",
               "rule": "default"}  # fmt: skip
    before_0012 = {**service, "id": 2, "identity_kind": None, "auth_method": "oidc"}  # an OIDC service, kind unknown

    report = replay(policy(text), [service, before_0012])

    assert report.inferred_kind == 1
    assert report.unchanged == 1  # the service, as recorded
    assert [(c.after[0], c.examples) for c in report.changes] == [("block", (2,))]  # taken for an unknown user


def test_when_a_model_was_asked_by_an_alias_then_the_name_the_policy_saw_is_replayed() -> None:
    decided = row(1, {"GITHUB_TOKEN": 1})
    by_alias = {**decided, "id": 2, "model": "llama", "policy_model": "llama-internal"}
    before_0012 = {**decided, "id": 3, "model": "llama", "policy_model": None}  # the alias is all there is

    report = replay(policy(old_text()), [decided, by_alias, before_0012])

    assert report.unchanged == 2
    assert [(c.after, c.examples) for c in report.changes] == [(("block", "default"), (3,))]  # an unknown model
