"""Decoded views: the text a model reads behind HTML entities, percent-encoding, escapes, base64 and number words.

A model reads ``&#52;&#49;…``, ``%34%31…``, ``\\u0034\\u0031…``, ``NDExMTEx…`` (base64) and ``four one one one…``
as easily as the digits themselves, so the scanner inspects what such forms decode to::

    text ─▶ encoded pieces (cheap triggers first) ─▶ windows around them ─▶ views (pieces replaced by what
         they decode to) ─▶ the same scanner, one level deeper ─▶ findings mapped back onto the encoded form

A ``Piece`` is one encoded stretch of the text and what it decodes to: one HTML entity, one percent- or
backslash-escaped character (the bytes of one UTF-8 character), a ``+`` in a form-encoded token, one number
word or digit group of a spelled-out sequence, or a whole base64 run. A ``DecodedView`` is a window of the text
with its pieces replaced; it maps every span of its text back to the original: characters copied as they were
map one to one, a decoded character maps to its whole piece. A finding of a view is reported only when it covers
at least one decoded character (what lies wholly in copied text was found in the text itself), with the span of
the original text that it maps to: exactly the encoded characters of an entity, escape or number-word sequence,
the whole run for base64. Masking that span removes the encoded form.

Cost and bounds. The scanner's single trigger pass (``prefilter.TriggerSet``) holds one ``DecoderTrigger`` per
family, so prose with no ``&``, ``%``, backslash, long base64-like run or two adjacent number words pays nothing
more. Every decoder shrinks its input (an entity, an escape, a word or four base64 characters decode to fewer
characters), windows of one text are disjoint, so the views of a text hold at most as many characters as the
text; the scanner decodes at most ``MAX_DEPTH`` levels deep (base64 of percent-encoding of entities…), so a
crafted input costs at most ``MAX_DEPTH + 1`` scans of its size.
"""

from __future__ import annotations

import binascii
import html
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from typing import Final

import re2
from mypy_extensions import i64

from clearance.detect.base import Detector, Document
from clearance.detect.builtin.jwt import jwt_header
from clearance.detect.exclusions import re2_options
from clearance.detect.skeleton import ascii_view
from clearance.models import Finding

MAX_DEPTH = 3
"""Encodings nested deeper than this (base64 of base64 of percent-encoding of …) are not unwrapped."""
CONTEXT = 256
"""Characters of plain text kept on each side of encoded pieces in a view: room for context words and for a value
of which only part is encoded."""
MIN_BASE64 = 12
"""Shortest base64 run decoded (9 bytes: a bare SSN): shorter ones hold no value of interest."""
MIN_SPELLED_DIGITS = 7
"""Fewest digits a spelled-out sequence (or a URL path viewed) must hold (a local phone number; cards and SSNs hold
more)."""

HTML = "html"
PERCENT = "percent"
ESCAPE = "escape"
BASE64 = "base64"
DATA_URL = "data_url"
NUMBER_WORDS = "number_words"
URL = "url"
LOOKALIKE = "lookalike"
HEX = "hex"
CHAR_CODES = "char_codes"
MARKUP = "markup"
WHITESPACE_SPLIT = "whitespace_split"
"""A vendor token broken by whitespace (``ghp_4hT9 kLm2 …`` in groups, or wrapped over lines): its view joins it."""
TAGS = "tags"
"""Unicode tag characters (U+E0020-U+E007E) spell ASCII invisibly ("ASCII smuggling"), and models read them.
Normalisation removes them (between the digits of a value they hide nothing); their view reads them as the ASCII
they stand for. The trigger pass reads the normalised text, where they are gone, so the scanner asks
``has_tag_run`` when normalisation removed something."""

# Cyrillic and Greek letters drawn like a Latin one: in a token that mixes them with ASCII letters or digits
# (``AKIA…`` with a Cyrillic A, an IBAN with a Greek E) a model reads the Latin letter.
LOOKALIKES: dict[str, str] = dict(
    zip(
        "\u0410\u0412\u0421\u0415\u041d\u0406\u0408\u041a\u041c\u041e\u0420\u0405\u0422\u0425\u0423\u0430\u0435\u0456\u0458\u043e\u0440\u0441\u0455"
        "\u0443\u0445\u0501\u04bb\u051b\u051d\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03bf\u03b9\u03bd",
        "ABCEHIJKMOPSTXYaeijopcsyxdhqwABEZHIKMNOPTYXoiv",
        strict=True,
    )
)
_LOOKALIKE_CLASS = "".join(LOOKALIKES)

# Digit words in English, French, German, Spanish, Italian and Portuguese. A word that is a digit in two languages
# means the same digit in both (six, seis, cinco, zero).
DIGIT_WORDS: dict[str, str] = {
    **dict.fromkeys(("zero", "oh", "zéro", "null", "cero", "nought"), "0"),
    **dict.fromkeys(("one", "un", "une", "eins", "uno", "una", "um", "uma"), "1"),
    **dict.fromkeys(("two", "deux", "zwei", "zwo", "dos", "due", "dois", "duas"), "2"),
    **dict.fromkeys(("three", "trois", "drei", "tres", "tre", "três"), "3"),
    **dict.fromkeys(("four", "quatre", "vier", "cuatro", "quattro", "quatro"), "4"),
    **dict.fromkeys(("five", "cinq", "fünf", "fuenf", "cinco", "cinque"), "5"),
    **dict.fromkeys(("six", "sechs", "seis", "sei"), "6"),
    **dict.fromkeys(("seven", "sept", "sieben", "siete", "sette", "sete"), "7"),
    **dict.fromkeys(("eight", "huit", "acht", "ocho", "otto", "oito"), "8"),
    **dict.fromkeys(("nine", "niner", "neuf", "neun", "nueve", "nove"), "9"),
}
_WORD_ALTERNATION = "|".join(sorted(DIGIT_WORDS, key=lambda w: (-len(w), w)))
# English digit words glued together ("fouroneoneone…") read as digits too; other languages' short words
# ("un", "tre", "sei") glue into ordinary words too easily.
_GLUED_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_GLUED_ALTERNATION = "|".join(_GLUED_WORDS)
_NUMBER_SEPARATOR = r"[ \t\r\n,;:./\-]{1,4}"  # views are built from normalised text: Unicode dashes are "-"

# Triggers: RE2 patterns that match wherever the family's decoder could find a piece (they may match more often).
# No counted repetitions of broad classes: they multiply the states of the shared automaton.
DECODER_TRIGGERS: dict[str, str] = {
    HTML: r"&(?:#[xX]?[0-9A-Fa-f]|[A-Za-z][A-Za-z0-9]+;)",
    PERCENT: r"%[0-9A-Fa-f]{2}",
    ESCAPE: r"\\(?:u[0-9A-Fa-f{]|U[0-9A-Fa-f]|x[0-9A-Fa-f]{2}|[0-7]{3})",
    BASE64: r"[a-z][A-Za-z0-9+/_\-]*[A-Z]",  # unbounded: a counted repetition would blow up the automaton
    DATA_URL: r"(?i)data:[^,\s]*;base64,",
    URL: r"://[^\s/]*/",
    LOOKALIKE: rf"[A-Za-z0-9_][{_LOOKALIKE_CLASS}]|[{_LOOKALIKE_CLASS}][A-Za-z0-9_]",
    # Hex bytes of printable ASCII in a row (high nibble 2 to 7): three "0x"-prefixed; five with one space or colon
    # between them; six bare ones at the start of a token (not inside a long number or a hash). Spelled out:
    # counted repetitions would multiply the shared automaton's states.
    HEX: r"0[xX][2-7][0-9A-Fa-f][ ,:]{1,2}0[xX][2-7][0-9A-Fa-f][ ,:]{1,2}0[xX][2-7][0-9A-Fa-f]"
    + "|"
    + "[ :]".join(["[2-7][0-9A-Fa-f]"] * 5)
    + "|(?:^|[^0-9A-Za-z])"
    + "[2-7][0-9A-Fa-f]" * 6,
    # A markup tag right before or after a digit: "<b>4111</b><b>1111</b>…".
    MARKUP: r"</?[A-Za-z][A-Za-z0-9]{0,15}(?:\s[^<>]{0,200})?>[0-9]|[0-9]</?[A-Za-z][A-Za-z0-9]{0,15}>",
    # A vendor prefix, then its token's characters up to a space or a line break.
    WHITESPACE_SPLIT: r"(?:gh[pousr]_|github_pat_|AKIA|ASIA|glpat-|xox[abpr]-|sk-|sk_live_|rk_live_|AIza|hf_|npm_)"
    r"[A-Za-z0-9_\-]*[ \r\n]",
    NUMBER_WORDS: rf"(?i)\b(?:{_WORD_ALTERNATION})\b{_NUMBER_SEPARATOR}(?:[0-9]|(?:{_WORD_ALTERNATION})\b)"
    rf"|[0-9]{_NUMBER_SEPARATOR}(?:{_WORD_ALTERNATION})\b|(?i)(?:{_GLUED_ALTERNATION}){{3}}",
    # Four decimal character codes of printable ASCII in a row ("52, 49, 49…", "CHAR(52,49…)").
    CHAR_CODES: "(?:, ?| )".join([r"\b(?:[3-9][0-9]|1[0-2][0-9])"] * 4) + r"\b",
}

# Numeric references may omit the ";" (browsers accept "&#52"); named ones need it.
_ENTITY = re.compile(
    r"&(?:#[0-9]{1,8}(?:;|(?![0-9]))|#[xX][0-9A-Fa-f]{1,7}(?:;|(?![0-9A-Fa-f]))|[A-Za-z][A-Za-z0-9]{1,31};)"
)
_PERCENT_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_ESCAPE = re.compile(r"\\(?:u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|([0-7]{3}))")
# Byte classes for ``base64_runs``: 0 outside the alphabet, then lower case, upper case, other alphabet characters.
_B64_OUT: Final = 0
_B64_LOWER: Final = 1
_B64_UPPER: Final = 2
_B64_OTHER: Final = 3


def _base64_classes(others: bytes) -> bytes:
    return bytes(
        _B64_LOWER if 97 <= b <= 122 else _B64_UPPER if 65 <= b <= 90 else _B64_OTHER if b in others else _B64_OUT
        for b in range(256)
    )


_B64_ANY = _base64_classes(b"0123456789+/_-")
# When a whole run does not decode: its parts in one alphabet (a base64 value glued to a path or an identifier).
_B64_STANDARD = _base64_classes(b"0123456789+/")
_B64_URL_SAFE = _base64_classes(b"0123456789_-")
_B64_ALNUM = _base64_classes(b"0123456789")
_JWT_CHARS = re.compile(r"[A-Za-z0-9_\-.]*")
_NEXT_LINE = re.compile(r"\r?\n([A-Za-z0-9+/_\-]{2,}={0,2})")
_LINE_BREAKS = re.compile(r"\r?\n")
_BASE64_SEPARATORS = re.compile(r"[+/_\-]")
_DATA_URL = re.compile(r"(?i)data:[^,;\s]{0,100}(?:;[^,;\s]{0,100}){0,8};base64,([A-Za-z0-9+/_\-]*={0,2})")
_URL_PATH = re.compile(r"[^\s/\"'<>]{1,256}(/[^\s\"'<>]{0,4096})")  # after "://"
_DIGITS = "0123456789"
_URL_DELIMITERS = re.compile(r"[/?&=#;,]")
# RE2 (linear, and fast on this alternation). A run holds at least one word; digit groups may come first.
_NUMBER_TOKEN = rf"(?:(?:{_WORD_ALTERNATION})\b|[0-9]+)"
_NUMBER_RUN = re2.compile(
    rf"(?i)\b(?:[0-9]+{_NUMBER_SEPARATOR})*(?:{_WORD_ALTERNATION})\b(?:{_NUMBER_SEPARATOR}{_NUMBER_TOKEN})+",
    re2_options(),
)
_NUMBER_PART = re.compile(rf"((?:{_WORD_ALTERNATION})(?![^\W\d_])|[0-9]+)({_NUMBER_SEPARATOR})?", re.IGNORECASE)
_LOOKALIKE_TOKEN = re.compile(rf"[\w{_LOOKALIKE_CLASS}]*[{_LOOKALIKE_CLASS}][\w{_LOOKALIKE_CLASS}]*")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
# Nine hex bytes or more: "0x34 0x31…", or bare: "34 31…", "34:31…", "34, 31…", "3431…". RE2: linear, and
# fast on the texts (tables of numbers, hashes) that set off the trigger and hold no such run; a run glued to a
# letter or digit is part of a longer token and skipped.
_HEX_RUN = re2.compile(
    r"0[xX][0-9A-Fa-f]{2}(?:[ ,:]{1,2}0[xX][0-9A-Fa-f]{2}){8,}|[0-9A-Fa-f]{2}(?:(?:[ :,] ?)?[0-9A-Fa-f]{2}){8,}",
    re2_options(),
)
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_CODE = r"(?:3[2-9]|[4-9][0-9]|1[01][0-9]|12[0-6])"
# Nine decimal character codes of printable ASCII or more, one separator style: "52 49…", "52,49…", "52, 49…".
_CHAR_CODE_RUN = re.compile(rf"(?<![0-9.]){_CODE}(, ?| )(?:{_CODE}\1){{7,}}{_CODE}(?![0-9.])")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]{0,15}(?:\s[^<>]{0,200})?/?>")
_TOKEN_START = re.compile(
    r"(?<![A-Za-z0-9_])(?:gh[pousr]_|github_pat_|AKIA|ASIA|glpat-|xox[abpr]-|sk-|sk_live_|rk_live_|AIza|hf_|npm_)"
)
_TOKEN_GROUP = re.compile(r"[A-Za-z0-9_\-]+")
_TOKEN_GAP = re.compile(r" |[ \t]*\r?\n[ \t]*")
_MAX_TOKEN_GROUPS = 24
_HEX_BYTE = re.compile(r"[0-9A-Fa-f]{2}")
_TAG_RUN = re.compile("[\U000e0020-\U000e007e]+")
# Seven words or more, glued or with separators between some (a run with none glued is ``_NUMBER_RUN``'s).
_GLUED_RUN = re.compile(
    rf"(?:{_GLUED_ALTERNATION})(?:(?:{_NUMBER_SEPARATOR})?(?:{_GLUED_ALTERNATION})){{{MIN_SPELLED_DIGITS - 1},}}",
    re.IGNORECASE,
)
_GLUED_PAIR = re.compile(rf"(?:{_GLUED_ALTERNATION})(?:{_GLUED_ALTERNATION})", re.IGNORECASE)
_GLUED_WORD = re.compile(_GLUED_ALTERNATION, re.IGNORECASE)
_WHITESPACE = frozenset(" \t\r\n\f\v")
_PRINTABLE_RUN = re.compile(rb"[\t\n\r\x20-\x7e]{8,}")


class Piece:
    """An encoded stretch ``[start, end)`` of a text and the text it decodes to."""

    __slots__ = ("decoded", "end", "start")

    def __init__(self, start: int, end: int, decoded: str) -> None:
        self.start = start
        self.end = end
        self.decoded = decoded


class DecoderTrigger(Detector):
    """A participant in the scanner's trigger pass that finds nothing itself: when its trigger matches, the
    scanner builds decoded views for its ``family``."""

    def __init__(self, family: str, trigger: str) -> None:
        self.family = family
        self.name = f"decoded:{family}"
        self.triggers = (trigger,)

    def find(self, doc: Document) -> Iterator[Finding]:
        return iter(())


def decoder_triggers() -> tuple[DecoderTrigger, ...]:
    return tuple(DecoderTrigger(family, trigger) for family, trigger in DECODER_TRIGGERS.items())


class DecodedView:
    """A window of a text with its encoded pieces replaced by what they decode to, and the way back.

    Segment ``i`` starts at ``view_starts[i]`` in ``text`` and comes from ``[src_starts[i], src_ends[i])`` of the
    original: copied character for character, or (a piece) decoded as a whole.
    """

    __slots__ = ("_copied", "_src_ends", "_src_starts", "_view_starts", "text")

    def __init__(self, source: str, window_start: int, window_end: int, pieces: Sequence[Piece]) -> None:
        parts: list[str] = []
        self._view_starts: list[int] = []
        self._src_starts: list[int] = []
        self._src_ends: list[int] = []
        self._copied: list[bool] = []
        at = window_start
        length = 0
        for piece in pieces:
            if piece.start > at:
                length = self._add(parts, length, at, piece.start, source[at : piece.start], True)
            length = self._add(parts, length, piece.start, piece.end, piece.decoded, False)
            at = piece.end
        if window_end > at:
            self._add(parts, length, at, window_end, source[at:window_end], True)
        self.text = "".join(parts)

    def _add(self, parts: list[str], length: int, start: int, end: int, text: str, copied: bool) -> int:
        parts.append(text)
        self._view_starts.append(length)
        self._src_starts.append(start)
        self._src_ends.append(end)
        self._copied.append(copied)
        return length + len(text)

    def source_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The original span of view span ``[start, end)``, or None when it neither covers nor touches a decoded
        character (what lies in copied text away from any piece was found in the text itself)."""
        if end <= start:
            return None
        first = bisect_right(self._view_starts, start) - 1
        last = bisect_right(self._view_starts, end - 1) - 1
        # A piece just before or after counts: a decoded delimiter is what sets a value apart.
        low = first - 1 if first > 0 and start == self._view_starts[first] else first
        high = last + 1 if last + 1 < len(self._view_starts) and end == self._view_starts[last + 1] else last
        if all(self._copied[low : high + 1]):
            return None
        # A copied segment maps character for character; a decoded piece maps as a whole.
        src_start = self._src_starts[first]
        if self._copied[first]:
            src_start += start - self._view_starts[first]
        src_end = self._src_ends[last]
        if self._copied[last]:
            src_end = self._src_starts[last] + end - self._view_starts[last]
        return src_start, src_end


def decoded_views(text: str, families: Sequence[str], covered: Sequence[tuple[int, int]] = ()) -> list[DecodedView]:
    """Views of ``text`` for the encoded pieces of the given families, one per group of nearby pieces. Base64 runs
    wholly inside a ``covered`` span (sorted, disjoint) are not decoded."""
    pieces = find_pieces(text, families, covered)
    views: list[DecodedView] = []
    group: list[Piece] = []
    for piece in pieces:
        if group and piece.start - group[-1].end > 2 * CONTEXT:
            views.append(_view(text, group))
            group = []
        group.append(piece)
    if group:
        views.append(_view(text, group))
    return views


def _view(text: str, group: list[Piece]) -> DecodedView:
    start = max(0, group[0].start - CONTEXT)
    end = min(len(text), group[-1].end + CONTEXT)
    return DecodedView(text, start, end, group)


def find_pieces(text: str, families: Sequence[str], covered: Sequence[tuple[int, int]] = ()) -> list[Piece]:
    """The encoded pieces of ``text``, sorted and disjoint (where two overlap, the one that starts first wins,
    then the longer)."""
    found: list[Piece] = []
    if DATA_URL in families:
        found.extend(_data_url_pieces(text))
    if HTML in families:
        found.extend(_entity_pieces(text))
    if PERCENT in families:
        found.extend(_percent_pieces(text))
    if ESCAPE in families:
        found.extend(_escape_pieces(text))
    if BASE64 in families:
        found.extend(_base64_pieces(text, covered))
    if NUMBER_WORDS in families:
        found.extend(_number_word_pieces(text))
    if URL in families:
        found.extend(_url_pieces(text))
    if LOOKALIKE in families:
        found.extend(_lookalike_pieces(text))
    if CHAR_CODES in families:  # before hex: where both read a run, its piece holds both readings
        found.extend(_char_code_pieces(text))
    if HEX in families:
        found.extend(_hex_pieces(text))
    if TAGS in families:
        found.extend(_tag_pieces(text))
    if MARKUP in families:
        found.extend(_markup_pieces(text))
    if WHITESPACE_SPLIT in families:
        found.extend(_split_token_pieces(text))
    found.sort(key=lambda p: (p.start, -p.end))
    pieces: list[Piece] = []
    end = 0
    for piece in found:
        if piece.start >= end:
            pieces.append(piece)
            end = piece.end
    return pieces


def _entity_pieces(text: str) -> Iterator[Piece]:
    for match in _ENTITY.finditer(text):
        entity = match.group()
        decoded = html.unescape(entity if entity.endswith(";") else entity + ";")
        if decoded != entity and decoded != entity + ";":
            yield Piece(match.start(), match.end(), decoded)


def _utf8_pieces(units: list[tuple[int, int, int]]) -> Iterator[Piece]:
    """Pieces for escaped bytes ``(start, end, byte)``: each UTF-8 character whose bytes are escaped one after
    another is one piece; a byte that starts no valid character stands for itself (Latin-1)."""
    i = 0
    while i < len(units):
        start, end, byte = units[i]
        size = 1 if byte < 0x80 else 2 if 0xC2 <= byte < 0xE0 else 3 if 0xE0 <= byte < 0xF0 else 4 if byte < 0xF5 else 1
        group = units[i : i + size]
        contiguous = len(group) == size and all(group[k][0] == group[k - 1][1] for k in range(1, size))
        if size > 1 and contiguous:
            try:
                char = bytes(u[2] for u in group).decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                yield Piece(start, group[-1][1], char)
                i += size
                continue
        yield Piece(start, end, chr(byte))
        i += 1


def _percent_pieces(text: str) -> Iterator[Piece]:
    units: list[tuple[int, int, int]] = []
    tokens_done = 0
    for match in _PERCENT_RUN.finditer(text):
        start = match.start()
        units.extend((p, p + 3, int(text[p + 1 : p + 3], 16)) for p in range(start, match.end(), 3))
        if start < tokens_done:
            continue
        # A token (no white space) that holds a percent escape is form-encoded: its "+" are spaces.
        token_start = start
        while token_start > tokens_done and start - token_start < 2048 and text[token_start - 1] not in _WHITESPACE:
            token_start -= 1
        token_end = match.end()
        while token_end < len(text) and token_end - start < 4096 and text[token_end] not in _WHITESPACE:
            token_end += 1
        plus = text.find("+", token_start, token_end)
        while plus >= 0:
            units.append((plus, plus + 1, 0x20))
            plus = text.find("+", plus + 1, token_end)
        tokens_done = token_end
    units.sort()
    yield from _utf8_pieces(units)


def _escape_pieces(text: str) -> Iterator[Piece]:
    byte_units: list[tuple[int, int, int]] = []
    pending_high: tuple[int, int] | None = None  # a high surrogate waiting for its low half: (start, code)
    for match in _ESCAPE.finditer(text):
        start, end = match.span()
        hex_byte, octal = match.group(4), match.group(5)
        if hex_byte is not None or octal is not None:
            byte_units.append((start, end, int(hex_byte, 16) if hex_byte is not None else int(octal, 8) & 0xFF))
            continue
        code = int(match.group(1) or match.group(2) or match.group(3), 16)
        if pending_high is not None:
            high_start, high = pending_high
            pending_high = None
            if 0xDC00 <= code <= 0xDFFF and start == high_start + 6:  # the low half right after it
                yield Piece(high_start, end, chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
                continue
            yield Piece(high_start, high_start + 6, "\ufffd")
        if 0xD800 <= code <= 0xDBFF and match.group(2) is not None:
            pending_high = (start, code)
        elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            yield Piece(start, end, "\ufffd")
        else:
            yield Piece(start, end, chr(code))
    if pending_high is not None:
        yield Piece(pending_high[0], pending_high[0] + 6, "\ufffd")
    yield from _utf8_pieces(byte_units)


def base64_text(run: str) -> str | None:
    """The text a base64 or base64url run encodes (padded or not), or None when it is not mostly printable
    UTF-8 text (random bytes, a hash, an identifier that merely uses the alphabet)."""
    body = run.rstrip("=")
    if len(body) % 4 == 1 or body.lower() == body or body.upper() == body:
        return None  # base64 of text mixes cases; a run in one case is a word, hex or a number
    if ("+" in body or "/" in body) and ("-" in body or "_" in body):
        return None
    body = body.replace("-", "+").replace("_", "/")
    try:
        raw = binascii.a2b_base64(body + "=" * (-len(body) % 4))
    except binascii.Error:
        return None
    # Most runs that merely use the alphabet decode to invalid UTF-8: tell so without raising (costly).
    if raw.isascii():
        decoded = raw.decode("ascii")
    else:
        decoded = raw.decode("utf-8", "replace")
        if decoded.count("\ufffd") > raw.count(b"\xef\xbf\xbd"):
            return None
    return decoded if _mostly_printable(decoded) else None


def _mostly_printable(text: str) -> bool:
    if len(text) < 4:
        return False
    printable = sum(1 for c in text if c.isprintable() or c in "\t\n\r")
    return printable * 10 >= len(text) * 9


def base64_runs(ascii: bytes, start: i64 = 0, stop: i64 = -1, classes: bytes = _B64_ANY) -> list[tuple[int, int]]:
    """Spans of the runs of base64 alphabet characters (padding included) in ``ascii[start:stop]`` (a text's
    ``skeleton.ascii_view``: offsets are the text's) at least ``MIN_BASE64`` long in which a lower-case letter
    comes before an upper-case one: base64 of text always has one; words, hex, numbers and capitalised names do
    not. ``classes`` says which bytes are in the alphabet.

    Only one byte in ``step`` is probed (the alphabet part of a run long enough, padding aside, holds a probe), and
    a run is read only when a probe lands in it, so prose costs a fraction of a pass (compiled: a few nanoseconds
    a probe)."""
    runs: list[tuple[int, int]] = []
    n: i64 = len(ascii) if stop < 0 else stop
    step: i64 = MIN_BASE64 - 2
    done: i64 = start
    probe: i64 = start + step - 1
    while probe < n:
        if classes[ascii[probe]] == _B64_OUT:
            probe += step
            continue
        begin = probe
        while begin > done and classes[ascii[begin - 1]] != _B64_OUT:
            begin -= 1
        i = begin
        lower = False
        mixed = False
        while i < n:
            kind = classes[ascii[i]]
            if kind == _B64_OUT:
                break
            if kind == _B64_LOWER:
                lower = True
            elif kind == _B64_UPPER and lower:
                mixed = True
            i += 1
        end = i
        while end < n and end - i < 2 and ascii[end] == 61:  # "=" padding
            end += 1
        if mixed and end - begin >= MIN_BASE64:
            runs.append((begin, end))
        done = end
        probe = end + step - 1
    return runs


def _base64_pieces(text: str, covered: Sequence[tuple[int, int]]) -> Iterator[Piece]:
    ascii = ascii_view(text)
    skip_to = 0
    cover = 0
    for start, end in base64_runs(ascii):
        while cover < len(covered) and covered[cover][1] <= start:
            cover += 1
        if start < skip_to or (cover < len(covered) and covered[cover][0] <= start and end <= covered[cover][1]):
            continue
        run = text[start:end]
        if run.startswith("eyJ") and text.startswith(".", end):
            header = jwt_header(run)
            if header is not None and "alg" in header:
                # A JWT: reported whole (and restricted) by its detector; its parts need no view.
                jwt = _JWT_CHARS.match(text, end)
                skip_to = jwt.end() if jwt is not None else end
                continue
        wrapped = _wrapped_end(text, start, end)
        if wrapped > end:
            decoded = base64_text(_LINE_BREAKS.sub("", text[start:wrapped]))
            if decoded is not None:
                yield Piece(start, wrapped, decoded)
                skip_to = wrapped
                continue
        decoded = base64_text(run)
        if decoded is not None:
            yield Piece(start, end, decoded)
        elif _BASE64_SEPARATORS.search(run) is not None:
            yield from _base64_parts(text, ascii, start, end)


def _wrapped_end(text: str, start: int, end: int) -> int:
    """Where base64 wrapped over lines (as mail and PEM write it) that starts with the run ``[start, end)`` ends:
    while the block so far is whole quadruples without padding, a line break followed by more of the alphabet
    continues it. ``end`` when the run is not followed by such a line."""
    size = end - start
    while size % 4 == 0 and not text.startswith("=", end - 1):
        line = _NEXT_LINE.match(text, end)
        if line is None:
            break
        size += line.end(1) - line.start(1)
        end = line.end()
    return end


def _base64_parts(text: str, ascii: bytes, start: int, end: int) -> Iterator[Piece]:
    """A run that does not decode as a whole may be a value glued to a path or an identifier: its parts in one
    alphabet, the first alphabet in which some part decodes. A run in one alphabet only is split at every
    separator (its parts in that alphabet are the run itself)."""
    run = text[start:end]
    mixed = ("+" in run or "/" in run) and ("-" in run or "_" in run)
    for classes in (_B64_STANDARD, _B64_URL_SAFE, _B64_ALNUM) if mixed else (_B64_ALNUM,):
        found: list[Piece] = []
        for part_start, part_end in base64_runs(ascii, start, end, classes):
            decoded = base64_text(text[part_start:part_end]) if part_end - part_start < end - start else None
            if decoded is not None:
                found.append(Piece(part_start, part_end, decoded))
        if found:
            yield from found
            return


def _data_url_pieces(text: str) -> Iterator[Piece]:
    """The payload of a base64 data URL: its text, or when it is binary, the printable runs in it (what a fake
    image, or a text chunk of a real one, holds). The request walker skips real images of their declared type
    before they reach the scanner; whatever reaches it is inspected."""
    for match in _DATA_URL.finditer(text):
        payload = match.group(1)
        if len(payload) < 8:
            continue
        body = payload.rstrip("=").replace("-", "+").replace("_", "/")
        try:
            raw = binascii.a2b_base64(body + "=" * (-len(body) % 4))
        except binascii.Error:
            continue
        try:
            decoded = raw.decode("utf-8")
        except UnicodeDecodeError:
            decoded = "\n".join(run.decode("ascii") for run in _PRINTABLE_RUN.findall(raw))
        if decoded:
            yield Piece(match.start(1), match.end(1), decoded)


def _url_pieces(text: str) -> Iterator[Piece]:
    """The delimiters of URL paths and queries (and a query's ``+``) read as spaces, so that a number that is a
    whole path segment or query value (``/cards/4111111111111111/``, ``?ssn=123-45-6789``) stands apart from the
    words around it, as it does for whoever reads the URL. (Other values are found in URLs as they are; number
    detectors take a number glued to a word by ``/`` for part of an identifier.) Only paths that hold a number
    long enough to matter are viewed."""
    scheme = text.find("://")
    while scheme >= 0:
        url = _URL_PATH.match(text, scheme + 3)
        if url is None:
            scheme = text.find("://", scheme + 3)
            continue
        start, end = url.span(1)
        path = url.group(1)
        if sum(map(path.count, _DIGITS)) >= MIN_SPELLED_DIGITS:
            query = text.find("?", start, end)
            for delimiter in _URL_DELIMITERS.finditer(text, start, end):
                yield Piece(delimiter.start(), delimiter.end(), " ")
            plus = text.find("+", query, end) if query >= 0 else -1
            while plus >= 0:  # form encoding: "+" is a space in a query
                yield Piece(plus, plus + 1, " ")
                plus = text.find("+", plus + 1, end)
        scheme = text.find("://", end)


def _number_word_pieces(text: str) -> Iterator[Piece]:
    """Spelled-out digit sequences (``four one one one…``, ``four-one-one``, words mixed with digits): each word
    or digit group, with the separator after it, is a piece that decodes to its digits, so the sequence reads as
    one number."""
    for run in _NUMBER_RUN.finditer(text):
        parts = list(_NUMBER_PART.finditer(text, run.start(), run.end()))
        digits = [part.group(1) if part.group(1)[0].isdigit() else DIGIT_WORDS[part.group(1).lower()] for part in parts]
        words = sum(1 for part in parts if not part.group(1)[0].isdigit())
        if words < 2 or sum(len(d) for d in digits) < MIN_SPELLED_DIGITS:
            continue
        for index, (part, value) in enumerate(zip(parts, digits, strict=True)):
            end = part.end() if index + 1 < len(parts) else part.end(1)
            yield Piece(part.start(), end, value)
    for run in _GLUED_RUN.finditer(text):
        if _GLUED_PAIR.search(text, run.start(), run.end()) is None:
            continue
        for word in _GLUED_WORD.finditer(text, run.start(), run.end()):
            yield Piece(word.start(), word.end(), str(_GLUED_WORDS.index(word.group().lower())))


def _lookalike_pieces(text: str) -> Iterator[Piece]:
    """In each token that mixes Cyrillic or Greek look-alike letters with ASCII letters or digits, each look-alike
    letter reads as the Latin one (one character for one: spans stay exact). Tokens in one script are words."""
    for match in _LOOKALIKE_TOKEN.finditer(text):
        if _ASCII_ALNUM.search(match.group()) is None:
            continue
        for i in range(match.start(), match.end()):
            latin = LOOKALIKES.get(text[i])
            if latin is not None:
                yield Piece(i, i + 1, latin)


def _hex_pieces(text: str) -> Iterator[Piece]:
    """Runs of at least nine hex bytes that decode to printable ASCII text (a model reads ``0x34 0x31…`` or
    ``34313131…`` as the characters): the run decodes as a whole. Hashes and random bytes are not printable."""
    for match in _HEX_RUN.finditer(text):
        start, end = match.span()
        if (start > 0 and text[start - 1] in _ALNUM) or (end < len(text) and text[end] in _ALNUM):
            continue
        raw = bytes(int(b, 16) for b in _HEX_BYTE.findall(match.group().replace("0x", " ").replace("0X", " ")))
        if raw.isascii() and all(0x20 <= b < 0x7F or b in (9, 10, 13) for b in raw):
            yield Piece(match.start(), match.end(), raw.decode("ascii"))


def _char_code_pieces(text: str) -> Iterator[Piece]:
    """Runs of at least nine decimal codes of printable ASCII characters (``52 49 49 49…``, what ``CHAR()`` and
    ``String.fromCharCode`` take): a model reads them as the characters. The run decodes as a whole. Codes of two
    digits read as hex bytes too (``34 31…``): then the piece holds the hex reading, a space and the decimal one
    (still shorter than the run: every code takes at least three characters)."""
    for match in _CHAR_CODE_RUN.finditer(text):
        codes = match.group().replace(",", " ").split()
        decoded = "".join(chr(int(c)) for c in codes)
        hex_reading = bytes(int(c, 16) for c in codes) if all(len(c) == 2 for c in codes) else b""
        if all(0x20 <= b < 0x7F for b in hex_reading):
            decoded = hex_reading.decode("ascii") + " " + decoded if hex_reading else decoded
        yield Piece(match.start(), match.end(), decoded)


def _markup_pieces(text: str) -> Iterator[Piece]:
    """HTML or XML tags read as a space: a model reads ``<b>4111</b><b>1111</b>…`` as the digits, grouped."""
    for match in _TAG.finditer(text):
        yield Piece(match.start(), match.end(), " ")


def has_tag_run(text: str) -> bool:
    """Whether ``text`` holds a Unicode tag character that spells ASCII."""
    return _TAG_RUN.search(text) is not None


def _tag_pieces(text: str) -> Iterator[Piece]:
    for match in _TAG_RUN.finditer(text):
        yield Piece(match.start(), match.end(), "".join(chr(ord(c) - 0xE0000) for c in match.group()))


def _split_token_pieces(text: str) -> Iterator[Piece]:
    """The whitespace inside a vendor token broken into groups, read as nothing.

    Only two shapes join, so prose after a prefix ("ghp_ tokens are the classic kind") never does: groups of one
    length of at most eight (three groups or more; the last may be shorter), or pieces of eight characters or more
    each ending a line (a token wrapped). Either way the groups after the prefix must hold a digit.
    """
    for start in _TOKEN_START.finditer(text):
        first = _TOKEN_GROUP.match(text, start.end())
        end = first.end() if first is not None else start.end()
        for gaps in (_groups(text, start.start(), end, wrapped=False), _groups(text, start.start(), end, wrapped=True)):
            if gaps:
                for a, b in gaps:
                    yield Piece(a, b, "")
                break


def _groups(text: str, start: int, end: int, *, wrapped: bool) -> list[tuple[int, int]]:
    """The gaps of the token that starts at ``start`` (its first group ends at ``end``), in one shape; [] if none."""
    size = end - start
    if not wrapped and size > 8:
        return []
    gaps: list[tuple[int, int]] = []
    digit = False
    last = size
    while len(gaps) < _MAX_TOKEN_GROUPS:
        gap = _TOKEN_GAP.match(text, end)
        group = _TOKEN_GROUP.match(text, gap.end()) if gap is not None else None
        if gap is None or group is None:
            break
        length = group.end() - group.start()
        if wrapped:
            if "\n" not in gap.group() or last < 8:
                break
        elif last != size or length > size:
            break
        gaps.append((gap.start(), gap.end()))
        digit = digit or any(ch.isdigit() for ch in group.group())
        last = length
        end = group.end()
    if not digit or len(gaps) < (1 if wrapped else 2):
        return []
    return gaps
