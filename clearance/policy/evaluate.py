"""``evaluate(policy, facts) -> Decision``: pure, no I/O, a few dict lookups per request.

The order, top to bottom (the first step that decides wins):

1. the caller: no clearance selects them -> block (``unknown_identity``) unless ``defaults.unknown_identity: allow``
   (first, so that a caller the policy does not know learns nothing more about it);
2. the model: neither it nor its upstream has a level -> block (``unknown_model``) unless allowed;
3. the declared label: unknown -> block (``unknown_label``); below what was detected -> ``label_mismatch``, and
   block if ``defaults.label_mismatch: block``, else the detected level wins;
4. the rules, in order: the first that matches decides;
5. the defaults: data above the caller's clearance or the model's level is masked; what cannot be masked (a level
   that comes from the caller's label, not from findings) is blocked.

Whatever decides, the model's level holds: data above it is masked even under an ``allow`` rule, and refused if it
cannot be masked. The mask plan lists every type masked at the caller's limit, present in the request or not, so the
same plan masks the answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from clearance.models import Action, Decision, DecisionInput, MaskPlan, RecordMode
from clearance.policy import reasons as R
from clearance.policy.compiled import Policy, Rule

DEFAULT_RULE = "default"
_NOTHING = MaskPlan()


def _block(
    policy: Policy,
    counts: Mapping[str, int],
    level: str,
    reasons: tuple[str, ...],
    message: str,
    *,
    rule: str = DEFAULT_RULE,
    record: RecordMode | None = None,
) -> Decision:
    if rule == DEFAULT_RULE:
        reasons = (R.DEFAULT_DENY, *reasons)
    return Decision(
        "block",
        rule,
        reasons,
        level,
        _NOTHING,
        counts,
        message,
        record or policy.defaults.record,
        policy_version=policy.digest,
    )


def _sent(plan: MaskPlan, counts: Mapping[str, int]) -> Action:
    """``mask`` when the plan masks something in the request, else ``allow`` (the plan still masks the answer)."""
    return "mask" if any(plan.operator_for(t) is not None for t in counts) else "allow"


def _facts(
    policy: Policy, counts: Mapping[str, int], found_rank: int, rank: int, clearance: int, ceiling: int, mismatch: bool
) -> tuple[str, ...]:
    found: list[str] = [R.LABEL_MISMATCH] if mismatch else []
    if not counts:
        found.append(R.NO_SENSITIVE_DATA)
    elif found_rank == policy.top:
        found.append(R.RESTRICTED_TYPE)
    if rank > clearance:
        found.append(R.CLEARANCE_EXCEEDED)
    if rank > ceiling:
        found.append(R.MODEL_LEVEL_EXCEEDED)
    if counts and rank <= clearance and rank <= ceiling:
        found.append(R.WITHIN_CLEARANCE)
    return tuple(found)


def _unmaskable(policy: Policy, facts: DecisionInput, declared: int, clearance: int, ceiling: int) -> str:
    label = policy.levels[declared]
    if declared > ceiling:
        return (
            f"the request is labelled {label}, above what the model {facts.model} may receive "
            f"({policy.levels[ceiling]}); a label cannot be masked, so the request was not sent: send it to a model "
            f"cleared for {label}"
        )
    return (
        f"the request is labelled {label}, above your clearance ({policy.levels[clearance]}); a label cannot be "
        "masked, so the request was not sent: ask a policy admin for a clearance, or remove that data and its label"
    )


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _by_rule(
    policy: Policy,
    rule: Rule,
    facts: DecisionInput,
    counts: Mapping[str, int],
    level: str,
    found: tuple[str, ...],
    limits: tuple[int, int, int],
) -> Decision:
    declared, clearance, ceiling = limits
    reasons = (R.MATCHED_RULE, *found)
    if rule.action == "block":
        message = rule.message or (
            f"the data policy refuses this request (rule {rule.id}); ask a policy admin if you need to send it"
        )
        return _block(policy, counts, level, reasons, message, rule=rule.id, record=rule.record)
    # allow and require_approval grant past the caller's clearance, never past the model's level
    limit = min(clearance, ceiling) if rule.action == "mask" else ceiling
    if declared > limit:
        message = _unmaskable(policy, facts, declared, clearance, ceiling)
        return _block(policy, counts, level, (*reasons, R.CANNOT_MASK), message, rule=rule.id, record=rule.record)
    plan = rule.plans[limit]
    if rule.action == "require_approval":
        assert rule.approval is not None
        approval = rule.approval
        message = rule.message or (
            f"this request needs approval by {approval.approvals} member(s) of {', '.join(approval.approvers)} "
            f"(rule {rule.id}): ask them to approve it; an approval lasts {_duration(approval.grant_seconds)}"
        )
        return Decision(
            "require_approval",
            rule.id,
            (R.APPROVAL_REQUIRED, *reasons),
            level,
            plan,
            counts,
            message,
            rule.record,
            approval,
            policy.digest,
        )
    return Decision(
        _sent(plan, counts), rule.id, reasons, level, plan, counts, "", rule.record, policy_version=policy.digest
    )


def evaluate(policy: Policy, facts: DecisionInput) -> Decision:
    """Decide one request. Never raises for any input; every decision has a rule id and at least one reason, and
    names the policy version that made it (its digest)."""
    counts = {t: n for t, n in facts.counts.items() if n > 0}
    found_rank = max(map(policy.type_level, counts), default=0)
    detected = found_rank
    given = policy.rank.get(facts.level)  # the caller's classifier may know more; a foreign name is ignored
    if given is not None and given > detected:
        detected = given
    declared = policy.rank.get(facts.declared) if facts.declared is not None else None
    rank = max(detected, declared or 0)
    level = policy.levels[rank]

    grant = policy.clearance(facts.identity)
    if grant is None and policy.defaults.unknown_identity == "deny":
        message = (
            "your identity has no clearance in the data policy, so your requests are refused; ask a policy admin "
            "to add your group (or you) under clearances"
        )
        return _block(policy, counts, level, (R.UNKNOWN_IDENTITY,), message)
    clearance = grant.rank if grant is not None else policy.unknown_identity_rank

    known_ceiling = policy.ceiling(facts.model, facts.upstream)
    if known_ceiling is None and policy.defaults.unknown_model == "deny":
        message = (
            f"the model {facts.model} has no data level in the policy, so requests to it are refused; ask a policy "
            "admin to add it under models (or its upstream under upstreams)"
        )
        return _block(policy, counts, level, (R.UNKNOWN_MODEL,), message)
    ceiling = known_ceiling if known_ceiling is not None else policy.unknown_model_rank

    if facts.declared is not None and declared is None:
        message = (
            "the declared label is not a level of the data policy; label the request one of "
            f"{', '.join(policy.levels)} (X-Data-Classification or metadata.classification), or send no label"
        )
        return _block(policy, counts, level, (R.UNKNOWN_LABEL,), message)
    mismatch = declared is not None and detected > declared
    if mismatch and policy.defaults.label_mismatch == "block":
        message = (
            f"detection found {level} data in a request labelled {facts.declared}: label it {level}, or remove "
            "that data, and send it again"
        )
        return _block(policy, counts, level, (R.LABEL_MISMATCH,), message)
    declared = declared or 0

    found = _facts(policy, counts, found_rank, rank, clearance, ceiling, mismatch)
    for rule in policy.rules:
        if rule.matches(facts, rank, mismatch, counts):
            return _by_rule(policy, rule, facts, counts, level, found, (declared, clearance, ceiling))

    limit = min(clearance, ceiling)
    if declared > limit:
        message = _unmaskable(policy, facts, declared, clearance, ceiling)
        return _block(policy, counts, level, (R.CANNOT_MASK, *found), message)
    plan = policy.plans[limit]
    return Decision(
        _sent(plan, counts),
        DEFAULT_RULE,
        found,
        level,
        plan,
        counts,
        "",
        policy.defaults.record,
        policy_version=policy.digest,
    )
