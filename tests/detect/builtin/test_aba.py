from __future__ import annotations

import pytest

from clearance.detect.builtin.aba import AbaRoutingDetector, aba_valid
from clearance.detect.scanner import Scanner
from tests.detect.helpers import values

DETECTOR = AbaRoutingDetector()


@pytest.mark.parametrize(("digits", "valid"), [("011000015", True), ("021000021", True), ("011000016", False),
                                               ("991000015", False)])  # fmt: skip
def test_when_a_routing_number_is_checked_then_prefix_and_checksum_decide(digits: str, valid: bool) -> None:
    assert aba_valid(digits) is valid


@pytest.mark.parametrize("text", ["routing 011000015", "ABA: 0110-0001-5"])
def test_when_a_routing_number_is_written_then_it_is_a_candidate(text: str) -> None:
    assert len(values(DETECTOR, text)) == 1


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("routing number 011000015", True),
        ("ABA 021000021", True),
        ("invoice 011000015", False),  # checksum alone is not enough
        ("routing number 011000016", False),
    ],
)
def test_when_scanned_then_only_routing_numbers_with_context_are_reported(text: str, found: bool) -> None:
    assert ("ABA_ROUTING_NUMBER" in [f.type for f in Scanner().scan(text)]) is found
