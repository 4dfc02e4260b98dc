from __future__ import annotations

import pytest

from clearance.detect.scanner import Scanner


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("account number 12345678901", True),
        ("acct #: 00123456789", True),
        ("checking account: 5759781861.", True),
        ("build 12345678901 finished", False),
        ("took 1528487205000 ms", False),
        # The label belongs to the first number: the second one is not an account number.
        ("account number 12345678. see 98765432101", None),
    ],
)
def test_when_scanned_then_bank_numbers_need_an_adjacent_label(text: str, found: bool | None) -> None:
    banks = [text[f.start : f.end] for f in Scanner().scan(text) if f.type == "US_BANK_NUMBER"]
    if found is None:
        assert banks == ["12345678"]
    else:
        assert bool(banks) is found
