"""Run one detector on a text the way the scanner does (normalised document), and read findings back."""

from __future__ import annotations

from clearance import scan
from clearance.detect.base import Detector, Document
from clearance.detect.normalize import Normalizer
from clearance.models import Finding


def document(text: str) -> Document:
    normalized, offsets = Normalizer().normalize(text)
    return Document(text, normalized, offsets)


def found(detector: Detector, text: str) -> list[Finding]:
    return list(detector.find(document(text)))


def values(detector: Detector, text: str, *, min_score: float = 0.0) -> list[str]:
    """The text of each finding scoring at least ``min_score`` (test texts are ASCII: offsets are the text's)."""
    return [text[f.start : f.end] for f in found(detector, text) if f.score >= min_score]


# ---- evasions: the ways a value is disguised, for the tables and properties of each numeric detector

# Every kind of separator a value's groups may be joined by (one kind per row, used every time).
SEPARATORS = {
    "slash": "/",
    "underscore": "_",
    "comma": ",",
    "comma space": ", ",
    "colon": ":",
    "pipe": "|",
    "spaced pipe": " | ",
    "dot": ".",
    "middle dot": "\u00b7",
    "bullet": "\u2022",
    "bullet operator": "\u2219",
    "one-dot leader": "\u2024",
    "ellipsis": "\u2026",
    "tab": "\t",
    "newline": "\n",
    "CRLF": "\r\n",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "run of spaces": "     ",
    "no-break space": "\u00a0",
    "ideographic space": "\u3000",
    "en dash": "\u2013",
    "full-width comma": "\uff0c",
    "plus": "+",
    "tilde": "~",
}

# Characters that show nothing, put between every two characters of a value: format characters (Cf), combining
# marks (Mn, Me), controls (C0, C1, DEL).
HIDDEN = {
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "right-to-left override": "\u202e",
    "invisible separator": "\u2063",
    "tag space": "\U000e0020",
    "combining acute": "\u0301",
    "combining low line": "\u0332",
    "combining enclosing circle": "\u20dd",
    "variation selector 16": "\ufe0f",
    "NUL": "\x00",
    "escape": "\x1b",
    "DEL": "\x7f",
    "C1 CSI": "\x9b",
}

# Digit forms whose compatibility form is the ASCII digit (``None``: the form has no zero).
DIGIT_FORMS: dict[str, tuple[str | None, ...]] = {
    "full-width": tuple(chr(0xFF10 + d) for d in range(10)),
    "superscript": ("\u2070", "\u00b9", "\u00b2", "\u00b3", *(chr(0x2070 + d) for d in range(4, 10))),
    "subscript": tuple(chr(0x2080 + d) for d in range(10)),
    "circled": ("\u24ea", *(chr(0x2460 + d - 1) for d in range(1, 10))),
    "parenthesised": (None, *(chr(0x2474 + d - 1) for d in range(1, 10))),
    "digit full stop": (None, *(chr(0x2488 + d - 1) for d in range(1, 10))),
    "digit comma": tuple(chr(0x1F101 + d) for d in range(10)),
    "mathematical bold": tuple(chr(0x1D7CE + d) for d in range(10)),
    "mathematical double-struck": tuple(chr(0x1D7D8 + d) for d in range(10)),
    "mathematical monospace": tuple(chr(0x1D7F6 + d) for d in range(10)),
    "segmented": tuple(chr(0x1FBF0 + d) for d in range(10)),
    "Arabic-Indic": tuple(chr(0x0660 + d) for d in range(10)),
    "Devanagari": tuple(chr(0x0966 + d) for d in range(10)),
}

# Letter forms whose compatibility form is the ASCII capital letter.
LETTER_FORMS: dict[str, int] = {
    "full-width": 0xFF21,
    "circled": 0x24B6,
    "mathematical bold": 0x1D400,
    "mathematical sans-serif": 0x1D5A0,
}


def grouped(digits: str, sizes: tuple[int, ...], separator: str) -> str:
    """``digits`` cut into groups of ``sizes`` (the last takes the rest) joined by ``separator``."""
    groups: list[str] = []
    at = 0
    for size in sizes:
        groups.append(digits[at : at + size])
        at += size
    if at < len(digits):
        groups.append(digits[at:])
    return separator.join(g for g in groups if g)


def in_form(text: str, form: str) -> str | None:
    """``text`` with its digits (and capital letters, where the form has them) in ``form``; None when the form
    cannot write one of its digits."""
    digits = DIGIT_FORMS.get(form)
    letters = LETTER_FORMS.get(form)
    out: list[str] = []
    for ch in text:
        if ch.isdigit() and digits is not None:
            mapped = digits[int(ch)]
            if mapped is None:
                return None
            out.append(mapped)
        elif "A" <= ch <= "Z" and letters is not None:
            out.append(chr(letters + ord(ch) - ord("A")))
        else:
            out.append(ch)
    return "".join(out)


def interleaved(text: str, hidden: str) -> str:
    """``hidden`` between every two characters of ``text``."""
    return hidden.join(text)


def covered(text: str, value: str, entity: str) -> bool:
    """``clearance.scan`` finds exactly one ``entity`` in ``text``, and its span is the whole of ``value``."""
    start = text.index(value)
    hits = [(f.start, f.end) for f in scan(text) if f.type == entity]
    return hits == [(start, start + len(value))]
