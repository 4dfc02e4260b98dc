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
