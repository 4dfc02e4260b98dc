"""The enforcement stage on its own: token ids refused, decisions carried, the hold-back chosen from the plan."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from clearance.detect import Scanner
from clearance.exceptions import InspectionFailed, UnsupportedInput
from clearance.inspection import Inspector, decision_headers
from clearance.models import Decision, DecisionInput, Finding, Identity, MaskPlan
from clearance.proxy.endpoints import OPENAI_CHAT, OPENAI_EMBEDDINGS

SCANNER = Scanner.from_config(None)
TYPES = frozenset(t for d in SCANNER.detectors for t in d.types)


def classify(counts: Mapping[str, int]) -> str:
    return "restricted" if counts else "public"


def decide_with(plan: MaskPlan) -> Inspector:
    def decide(facts: DecisionInput) -> Decision:
        return Decision("mask", "r1", ("restricted_type",), facts.level, plan, facts.counts)

    return Inspector(scan=SCANNER.scan, classify=classify, decide=decide, hash_key=b"k", types=TYPES)


def inspect(inspector: Inspector, body: dict[str, object], endpoint: object = OPENAI_CHAT) -> object:
    return inspector.inspect(
        endpoint,  # type: ignore[arg-type]
        body,
        identity=Identity.anonymous(),
        model="m",
        upstream="u",
        declared=None,
    )


def test_token_ids_are_refused_unless_allowed() -> None:
    inspector = decide_with(MaskPlan({"CREDIT_CARD": "redact"}))
    with pytest.raises(UnsupportedInput, match="token ids"):
        inspect(inspector, {"model": "m", "input": [[1, 2, 3]]}, OPENAI_EMBEDDINGS)


def test_findings_are_counted_and_masked_in_the_body() -> None:
    inspector = decide_with(MaskPlan({"CREDIT_CARD": "redact"}))
    body = {"model": "m", "messages": [{"role": "user", "content": "card 4111 1111 1111 1111"}]}
    result = inspect(inspector, body)
    assert result.decision.counts == {"CREDIT_CARD": 1}  # type: ignore[attr-defined]
    assert result.body["messages"][0]["content"] == "card [CREDIT_CARD]"  # type: ignore[attr-defined]
    assert body["messages"][0]["content"] == "card 4111 1111 1111 1111"  # type: ignore[index]


@pytest.mark.parametrize(
    ("plan", "hold"),
    [
        (MaskPlan({"CREDIT_CARD": "partial", "GITHUB_TOKEN": "redact"}), False),
        (MaskPlan({"CREDIT_CARD": "partial", "EMAIL_ADDRESS": "placeholder"}), True),
        (MaskPlan({"CREDIT_CARD": "partial"}, restore=True), True),
        (MaskPlan(otherwise="redact"), True),  # every type, emails included
    ],
)
def test_streams_hold_words_only_when_a_masked_type_can_start_with_one(plan: MaskPlan, hold: bool) -> None:
    result = inspect(decide_with(plan), {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert result.masker.hold_words is hold  # type: ignore[attr-defined]


def test_a_detector_failure_is_inspection_failed_with_no_payload_in_the_message() -> None:
    def broken(_text: str) -> list[Finding]:
        raise ValueError("4111 1111 1111 1111")

    inspector = Inspector(scan=broken, classify=classify, decide=lambda f: None, hash_key=b"k")  # type: ignore[arg-type,return-value]
    with pytest.raises(InspectionFailed) as info:
        inspect(inspector, {"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert "4111" not in info.value.message


def test_headers_carry_counts_never_values() -> None:
    decision = Decision("mask", "r1", ("restricted_type", "label_mismatch"), "restricted", counts={"US_SSN": 2})
    headers = decision_headers(decision, {"US_SSN": 2})
    assert headers == {
        "X-Clearance-Decision": "mask",
        "X-Clearance-Rule": "r1",
        "X-Clearance-Reasons": "restricted_type,label_mismatch",
        "X-Clearance-Level": "restricted",
        "X-Clearance-Findings": "US_SSN=2",
        "X-Clearance-Masked": "US_SSN=2",
    }
