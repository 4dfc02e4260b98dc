"""Check digits and randomness measures that validate candidates. Pure functions on short strings."""

from __future__ import annotations

import math
from typing import Final

from clearance.detect.skeleton import ascii_view, skeleton

# Luhn works on bytes: digit values as they are, and doubled (9 -> 18 -> 1 + 8 = 9).
_DIGIT_VALUE = bytes.maketrans(b"0123456789", bytes(range(10)))
_DOUBLED_DIGIT_SUM = bytes.maketrans(b"0123456789", bytes((0, 2, 4, 6, 8, 1, 3, 5, 7, 9)))


def luhn_valid(digits: str) -> bool:
    """True when the ASCII digit string passes the Luhn (mod 10) check.

    From the right, every other digit is doubled (and its two digits added); the sum must end in 0. Slices and
    ``bytes.translate`` do the work in C: this runs on every candidate card number.
    """
    raw = digits.encode()
    return (sum(raw[-1::-2].translate(_DIGIT_VALUE)) + sum(raw[-2::-2].translate(_DOUBLED_DIGIT_SUM))) % 10 == 0


def luhn_check_digit(body: str) -> str:
    """The digit that makes ``body + digit`` Luhn-valid."""
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


_LETTER_VALUES = {ord(ch): str(10 + i) for i, ch in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


def iban_mod97_valid(iban: str) -> bool:
    """ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 == 1."""
    rearranged = (iban[4:] + iban[:4]).upper()
    if not (rearranged.isascii() and rearranged.isalnum()):
        number = rearranged.translate(_LETTER_VALUES)
        return number.isdigit() and int(number) % 97 == 1
    # Digits and capital letters (what detectors pass): the remainder of the number the letters spell out (A = 10,
    # B = 11, …), taken digit by digit rather than by building the number as text.
    remainder = 0
    for ch in rearranged:
        value = ord(ch) - 48 if ch <= "9" else ord(ch) - 55
        remainder = (remainder * (10 if value < 10 else 100) + value) % 97
    return remainder == 1


def aba_checksum_valid(digits: str) -> bool:
    """ABA routing number check: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10)."""
    d = [ord(ch) - 48 for ch in digits]
    total = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5] + d[8])
    return total % 10 == 0


_C_LOG_C = tuple(c * math.log2(c) if c else 0.0 for c in range(1025))
_ASCII: Final = 128


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s own character distribution (0 for empty or one repeated char).

    H = log2(n) - (1/n)·Σ c·log2(c) over the character counts c, with c·log2(c) read from a table. The counts are
    taken in a loop that mypyc compiles to native code (ASCII characters in a list); the terms are added in the
    order in which characters first appear, ``Counter``'s order, so the float is the same as it gave.
    """
    n = len(value)
    if n == 0:
        return 0.0
    ascii_counts = [0] * _ASCII
    other_counts: dict[int, int] = {}
    order: list[int] = []
    for ch in value:
        code = ord(ch)
        if code < _ASCII:
            count = ascii_counts[code]
            ascii_counts[code] = count + 1
        else:
            count = other_counts.get(code, 0)
            other_counts[code] = count + 1
        if count == 0:
            order.append(code)
    table = _C_LOG_C
    total = 0.0
    for code in order:
        c = ascii_counts[code] if code < _ASCII else other_counts[code]
        total += table[c] if c < len(table) else c * math.log2(c)
    return max(0.0, math.log2(n) - total / n)


def char_classes(value: str) -> int:
    """How many of lower case, upper case, digits and other characters ``value`` uses (ASCII classes)."""
    kinds = skeleton(ascii_view(value))  # a, A, 0 and anything else
    return (b"a" in kinds) + (b"A" in kinds) + (b"0" in kinds) + (len(kinds.translate(None, b"aA0")) > 0)
