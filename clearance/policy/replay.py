"""Policy what-if on recorded traffic: each recorded decision's inputs, evaluated again under another policy.

A record keeps every input a decision takes (``clearance.models.DecisionInput``): the caller (subject, kind, email,
groups, API key), the model (the route's name, ``policy_model``: the name asked may be an alias), its upstream,
the endpoint, the declared label and the findings per type. The level is not an input of its own: it is the new
policy's classification of the findings, as the gateway would compute it.
``replay`` tallies the decisions that would change, from which action and rule to which, with a few record ids of
each, so a policy change is reviewed against real traffic before it is loaded. Pure: no I/O; the caller streams the
records in (``clearance.audit.query.iter_records``).

Records written before the caller's kind was recorded (migration 0012) have it inferred from how the caller
authenticated (an API key is a service, OIDC a user, none anonymous): an OIDC service account is then taken for a
user, so the report counts the records whose kind it inferred.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from clearance.models import DecisionInput, Identity, IdentityKind
from clearance.policy.compiled import Policy
from clearance.policy.evaluate import evaluate

EXAMPLES: Final = 3
"""Record ids kept per change."""

_KIND_BY_AUTH: Final[dict[str, IdentityKind]] = {"api_key": "service", "oidc": "user", "anonymous": "anonymous"}
_KINDS: Final[frozenset[str]] = frozenset({"user", "service", "anonymous"})

Outcome = tuple[str, str]
"""A decision's action and rule."""


@dataclass(frozen=True, slots=True)
class Change:
    before: Outcome
    after: Outcome
    count: int
    examples: tuple[int, ...]
    """Up to ``EXAMPLES`` record ids, oldest first."""


@dataclass(frozen=True, slots=True)
class ReplayReport:
    decided: int
    """Records that hold a decision, all evaluated again."""
    undecided: int
    """Records without one (refused before the policy decided: no credentials, a malformed request…): skipped."""
    unchanged: int
    inferred_kind: int
    """Records whose caller kind was inferred (written before it was recorded)."""
    changes: tuple[Change, ...]
    """Most frequent first."""

    @property
    def changed(self) -> int:
        return sum(change.count for change in self.changes)


@dataclass
class _Tally:
    count: int = 0
    examples: list[int] = field(default_factory=list)


def _identity(row: Mapping[str, Any]) -> tuple[Identity, bool]:
    """The caller as recorded, and whether its kind was inferred."""
    recorded: IdentityKind | None = row.get("identity_kind")
    inferred = recorded not in _KINDS
    kind = _KIND_BY_AUTH.get(row.get("auth_method") or "", "user") if recorded is None or inferred else recorded
    subject = row.get("subject") or "anonymous"
    groups = tuple(row.get("groups") or ())
    return Identity(subject, kind, email=row.get("email"), groups=groups, key_id=row.get("key_id")), inferred


def replay(policy: Policy, rows: Iterable[Mapping[str, Any]]) -> ReplayReport:
    """Every record's decision under ``policy``, against the one recorded."""
    decided = undecided = unchanged = inferred_kind = 0
    tallies: dict[tuple[Outcome, Outcome], _Tally] = {}
    for row in rows:
        if row.get("decision") is None or row.get("model") is None:
            undecided += 1
            continue
        decided += 1
        identity, inferred = _identity(row)
        inferred_kind += inferred
        counts = {str(t): int(n) for t, n in (row.get("findings") or {}).items()}
        facts = DecisionInput(
            identity=identity,
            model=row.get("policy_model") or row["model"],
            upstream=row.get("upstream") or "",
            endpoint=row["endpoint"],
            counts=counts,
            level=policy.classify(counts),
            declared=row.get("declared_label"),
        )
        now = evaluate(policy, facts)
        before: Outcome = (row["decision"], row.get("rule") or "")
        after: Outcome = (now.action, now.rule)
        if before == after:
            unchanged += 1
            continue
        tally = tallies.setdefault((before, after), _Tally())
        tally.count += 1
        if len(tally.examples) < EXAMPLES:
            tally.examples.append(int(row["id"]))
    changes = sorted(
        (Change(before, after, t.count, tuple(t.examples)) for (before, after), t in tallies.items()),
        key=lambda c: (-c.count, c.before, c.after),
    )
    return ReplayReport(decided, undecided, unchanged, inferred_kind, tuple(changes))
