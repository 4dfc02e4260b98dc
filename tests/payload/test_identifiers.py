"""Identifiers are read for values glued into them, on both sides of the gateway."""

from __future__ import annotations

import pytest

from clearance.detect import Scanner
from clearance.mask.masker import Masker
from clearance.models import Finding, MaskPlan
from clearance.payload.identifiers import MAX_VARIANTS, IdentifierScan, _variants

SCAN = Scanner.from_config(None).scan
TOKEN = "ghp_4hT9kLm2QxZ7vB1nW8cR5yE3uJ6pA0sD2fG4"


@pytest.mark.parametrize(
    ("identifier", "kind"),
    [
        ("pay_4111111111111111", "CREDIT_CARD"),
        ("chatcmpl-4111111111111111", "CREDIT_CARD"),
        (f"value_{TOKEN}_then", "GITHUB_TOKEN"),
        ("noteAKIAZ7QJ3M5X2R6T4W6Y", "AWS_ACCESS_KEY"),
        ("ok_536-22-8174!", "US_SSN"),
    ],
)
def test_when_a_value_is_glued_into_an_identifier_then_it_is_found(identifier: str, kind: str) -> None:
    assert kind in {f.type for f in IdentifierScan(SCAN)(identifier)}


@pytest.mark.parametrize("identifier", ["content", "reasoning_content", "chatcmpl-abc123", "call_9f2c", "gpt-4o-mini"])
def test_when_an_identifier_holds_nothing_then_nothing_is_found(identifier: str) -> None:
    assert IdentifierScan(SCAN)(identifier) == []


def test_findings_are_remembered() -> None:
    calls: list[str] = []

    def counting(text: str) -> list[Finding]:
        calls.append(text)
        return SCAN(text)

    ids = IdentifierScan(counting)
    ids("pay_4111111111111111")
    scanned = len(calls)
    ids("pay_4111111111111111")
    assert len(calls) == scanned


def test_variants_are_bounded() -> None:
    long = "_".join(f"w{i}" for i in range(200))
    assert len(_variants(long)) <= MAX_VARIANTS + 1 + 32


def test_an_answer_identifier_holding_a_masked_value_is_replaced_whole_and_counted() -> None:
    masker = Masker(MaskPlan(operators={"CREDIT_CARD": "partial"}), SCAN, b"k" * 32)
    assert masker.identifier("pay_4111111111111111") == "[CREDIT_CARD]"
    assert masker.identifier("get_weather") == "get_weather"
    assert masker.answer_counts["CREDIT_CARD"] == 1
