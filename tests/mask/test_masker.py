"""``Masker``: what a restoring caller gets back, and values masked across the joins of an answer's texts."""

from __future__ import annotations

from clearance.detect import Scanner
from clearance.mask.masker import Masker
from clearance.models import MaskPlan

SCANNER = Scanner.from_config(None)
OWN = "5500005555555559"
OTHER = "4111111111111111"


def restoring() -> Masker:
    masker = Masker(MaskPlan({"CREDIT_CARD": "placeholder"}, restore=True), SCANNER.scan, b"k")
    assert masker.mask(f"is {OWN} ok?") == "is <CREDIT_CARD_1> ok?"
    return masker


def test_a_restoring_caller_gets_back_its_own_original_and_no_other_value_of_its_type() -> None:
    out = restoring().outgoing(f"<CREDIT_CARD_1> is fine, {OTHER} is not")
    assert out.startswith(f"{OWN} is fine, ")
    assert OTHER not in out


def test_an_original_repeated_in_clear_goes_back_to_a_restoring_caller() -> None:
    assert restoring().outgoing(f"yes, {OWN}") == f"yes, {OWN}"


def test_a_value_split_over_joined_texts_is_masked_in_each_and_the_rest_kept() -> None:
    masker = Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k")
    first, second = masker.outgoing_joined(["pay 4111 1111 ", "1111 1111 today"])
    assert first.startswith("pay ") and "4111" not in first
    assert second.endswith(" today") and "1111 1111" not in second
    assert masker.outgoing_joined(["hello ", "world"]) == ["hello ", "world"]


def test_what_is_masked_in_the_request_and_in_the_answer_is_counted_apart() -> None:
    masker = Masker(MaskPlan({"CREDIT_CARD": "redact"}), SCANNER.scan, b"k")
    masker.mask(f"pay {OTHER}")
    masker.apply(f"and {OWN}", SCANNER.scan(f"and {OWN}"))
    masker.outgoing(f"sure, {OTHER}")
    masker.outgoing_joined(["pay 4111 1111 ", "1111 1111 today"])
    masker.identifier(f"pay_{OTHER}")
    assert masker.request_counts == {"CREDIT_CARD": 2}
    assert masker.answer_counts == {"CREDIT_CARD": 4}  # the joined value is counted in each text it touches


def test_when_a_text_is_masked_with_its_positions_then_each_finding_is_located_in_the_result() -> None:
    masker = Masker(MaskPlan({"CREDIT_CARD": "partial", "EMAIL_ADDRESS": "redact"}), SCANNER.scan, b"k")
    text = f"card {OTHER}, mail jo@acme.io, phone +1 415 555 0132, card {OWN}"
    findings = SCANNER.scan(text)

    out, at = masker.apply_at(text, findings)

    assert out == masker.apply(text, findings)
    assert [(f.type, out[f.start : f.end]) for f in at] == [
        ("CREDIT_CARD", "XXXXXXXXXXXX1111"),
        ("EMAIL_ADDRESS", "[EMAIL_ADDRESS]"),
        ("PHONE_NUMBER", "+1 415 555 0132"),  # let through: where it moved to
        ("CREDIT_CARD", "XXXXXXXXXXXX5559"),
    ]
    assert masker.request_counts == {"CREDIT_CARD": 4, "EMAIL_ADDRESS": 2}  # both calls count


def test_when_nothing_in_a_text_is_masked_then_its_positions_are_where_the_findings_were() -> None:
    masker = Masker(MaskPlan({"US_SSN": "redact"}), SCANNER.scan, b"k")
    text = f"mail jo@acme.io {OTHER}"
    out, at = masker.apply_at(text, SCANNER.scan(text))
    assert out == text and [(f.start, f.end) for f in at] == [(f.start, f.end) for f in SCANNER.scan(text)]
