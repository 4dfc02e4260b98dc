"""The hold-back reads values in every disguise detection reads: a streamed value written with compatibility digits
(superscripts, circled, subscripts, mathematical, full-width) or any separator is never released in part."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from clearance.detect import Scanner
from clearance.mask.events import OpenAiChunkMasker
from clearance.mask.masker import Masker
from clearance.models import MaskPlan

SCAN = Scanner.from_config(None).scan
PLAN = MaskPlan(operators={t: "redact" for t in ("CREDIT_CARD", "US_SSN", "IBAN_CODE")})
CARD = "4111 1111 1111 1111"


def _digits(offset: int) -> str:
    return "".join(chr(offset + int(c)) if c.isdigit() else c for c in CARD)


DISGUISES = {
    "superscript": CARD.translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")),
    "subscript": _digits(0x2080),
    "circled": CARD.translate(str.maketrans("123456789", "①②③④⑤⑥⑦⑧⑨")),
    "mathematical bold": _digits(0x1D7CE),
    "full-width": _digits(0xFF10),
    "pipes": CARD.replace(" ", "|"),
    "tabs": CARD.replace(" ", "\t"),
    "newlines": CARD.replace(" ", "\n"),
    "bullets": "•".join(CARD.replace(" ", "")),
    "combining marks": "\u0301".join(CARD),
    "underscores": CARD.replace(" ", "_"),
}


def stream(text: str, step: int) -> str:
    masker = Masker(PLAN, SCAN, b"k" * 32, hold_words=False)
    events = OpenAiChunkMasker(masker)
    out: list[dict[str, Any]] = []
    for i in range(0, len(text), step):
        out += events.event({"id": "c", "choices": [{"index": 0, "delta": {"content": text[i : i + step]}}]})
    out += events.end()
    return "".join(c.get("delta", {}).get("content", "") or "" for e in out for c in e.get("choices", []))


@pytest.mark.parametrize("disguise", DISGUISES)
@pytest.mark.parametrize("step", [1, 2, 3, 5, 7])
def test_a_disguised_value_streamed_in_pieces_is_masked_whole(disguise: str, step: int) -> None:
    text = f"pay with {DISGUISES[disguise]} today"
    out = stream(text, step)
    assert out == "pay with [CREDIT_CARD] today", disguise
    digits = "".join(str(unicodedata.digit(ch)) for ch in out if unicodedata.digit(ch, None) is not None)
    assert digits == ""
