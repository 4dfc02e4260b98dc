"""Masking text that arrives in pieces (a streamed answer), with the shortest safe hold-back.

A sensitive value, or a placeholder to restore, can be split across any two stream events. ``StreamMasker`` keeps
the text of one channel (one choice's content, one tool call's arguments) and releases it as soon as nothing that
could still be forming at its end is cut: it holds back only the tail that could be the beginning of a value — the
last unfinished token, a run of digits and separators (a card or phone number written with spaces), an unfinished
``password =`` assignment, an open PEM block, an unclosed placeholder. What is released is masked (and restored) as
a whole segment, so a value is never split between two releases. A tail that outgrows ``max_hold`` characters is
never released unread in part: the stream fails (``HoldExceeded``) and the relay ends it with an error event.

A run of number-like tokens is held as one: tokens holding a digit, and tokens of punctuation or markup only
(``**``, ``-``, ``|``), separated by any whitespace. So the token that completes a value may end in punctuation or
markup (``1111.``, ``1111**``, ``1111</b>``, ``1111")``) and the groups before it are still held with it.

When no masked type can begin with a plain word (every masked type is structured, ``clearance.entities``), a word
of letters is released at once instead of waiting for the space after it: the first word of an answer reaches the
caller without waiting for the model's next event.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from clearance.detect.decoded import DIGIT_WORDS
from clearance.exceptions import InspectionFailed

# Each pattern matches a tail of the pending text that must wait for more; the earliest start wins.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"


def _numeric_class() -> str:
    """A character-class body for every character that is a number to Unicode but not a decimal digit (``\\d``):
    superscripts, subscripts, circled and parenthesised digits, fractions… Detection folds them to digits
    (``clearance.detect.normalize``), so the hold-back must treat them as digits too."""
    ranges: list[tuple[int, int]] = []
    for cp in range(0x80, 0x20000):
        ch = chr(cp)
        if ch.isnumeric() and not ch.isdecimal():
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    return "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)


_D = rf"[\d{_numeric_class()}]"
"""A digit, in any form detection reads as one."""
_DIGITISH = frozenset(f"0123456789 -.()/{_INVISIBLE}")
_DIGIT = re.compile(_D)
_BRACKET = re.compile(r"[<\[]")
_ALNUM = re.compile(r"[^\W_]")
_KEYWORD_WORDS = (
    *("pass", "pwd", r"pw\b", "secret", "token", "key", "cred", "kennwort", "schl(?:ü|u|ue)ssel", "cl(?:é|ef|ave)"),
    *("jeton", "contrase", "senha", "chave", "chiave", "wachtwoord", "sleutel", "mdp"),
)
"""The credential words, in any language detection reads one in (``clearance.detect.builtin.keyword_credential``),
as regular expressions, case aside; each starts with a plain letter."""
# The lookahead, read under the same (?i) as the words, lets through exactly the positions where one of their first
# letters is, so a search tries the alternation only there: one class test instead of every word at each position
# of prose, 3x faster. Only whether a search finds a word is ever used, and that is unchanged (tests/mask/
# test_stream.py holds every character to it). The hold-back runs it on each streamed event (``StreamMasker.
# _introduced``) and on each pending tail (``_TAIL_PATTERNS``).
_KEYWORD_STARTS = "".join(sorted({word[0] for word in _KEYWORD_WORDS}))
_KEYWORD = re.compile(rf"(?i)(?=[{_KEYWORD_STARTS}])(?:{'|'.join(_KEYWORD_WORDS)})")
_INTRODUCED = 64
"""How far back a credential word makes the next word wait: a value it introduces may start like a word."""
_NUMBER_WORD_ALTERNATION = "|".join(sorted(DIGIT_WORDS, key=lambda w: (-len(w), w)))
_NUMBER_WORD = re.compile(
    rf"(?i)[^\w]*(?:{_NUMBER_WORD_ALTERNATION}|\d+)(?:[^\w\s]+(?:{_NUMBER_WORD_ALTERNATION}|\d+))*[^\w]*"
)
"""A token detection reads as digits: a digit word in any language it decodes (``four``, ``vier``, ``oh``), maybe
joined to more by punctuation (``four-one-one``), maybe with punctuation around it. Detection reads a run of them
as a number (``clearance.detect.decoded``), so the hold-back holds such a run like a run of digits: each word alone
is prose, and released one by one they would spell the value unread."""


_ANY_NUMBER_WORD = re.compile(rf"(?i)(?<![^\W\d_])(?:{_NUMBER_WORD_ALTERNATION})(?![^\W\d_])")


def holds_number(text: str) -> bool:
    """Whether ``text`` holds a digit in any form detection reads as one: ``\\d``, a superscript or circled digit,
    or a digit word. A segment that does may be a number that words before it qualify ("ssn: five three six…")."""
    return _DIGIT.search(text) is not None or _ANY_NUMBER_WORD.search(text) is not None


def _number_like(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` (one token) holds a digit, or is a spelled-out digit (``_NUMBER_WORD``)."""
    return _DIGIT.search(text, start, end) is not None or _NUMBER_WORD.fullmatch(text, start, end) is not None


def _ends_in_digits(tail: str) -> bool:
    stripped = tail.rstrip(" -.()/" + _INVISIBLE)
    return bool(stripped) and stripped[-1].isnumeric() and (tail[-1] in _DIGITISH or tail[-1].isnumeric())


# Each pattern matches a tail of the pending text that must wait for more; the earliest start wins. Each comes with
# a cheap test on the last characters that must hold for it to match at all, so plain prose costs no regex search.
_TAIL_PATTERNS: tuple[tuple[Callable[[str], bool], re.Pattern[str]], ...] = (
    # digits with the separators cards, phones, SSNs and IBANs are written with, possibly ending in a separator
    (_ends_in_digits, re.compile(rf"(?:[A-Z]{{2}}\d{{2}}[ ]?)?[+(]?{_D}(?:{_D}|[ \-.()/{_INVISIBLE}])*$")),
    # an IBAN whose groups hold letters too (GB82 WEST 1234 …)
    (
        lambda tail: _DIGIT.search(tail, len(tail) - 40) is not None,
        re.compile(r"(?i)(?<![^\W_])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){0,40}[ \-]?$"),
    ),
    # a secret assignment whose value has not come, or not ended, yet: "password = ", "api_key: sk-12"
    (
        lambda tail: _KEYWORD.search(tail, len(tail) - 80) is not None,
        re.compile(
            r"(?i)\b(?:pass(?:word|wd)?|pwd|secret|token|api[_\- ]?key|apikey|access[_\- ]?key|credentials?)"
            r"[\"']?\s*(?:[:=]|is)?\s*[\"']?\S*$"
        ),
    ),
    # a placeholder the model is spelling out with spaces: "<EMAIL ADDRESS"
    (lambda tail: _BRACKET.search(tail, len(tail) - 50) is not None, re.compile(r"[<\[][A-Za-z_ \-]{0,40}\d{0,4}$")),
    # a PEM header still being written: "-----", "-----BEGIN RSA PRIV"
    (lambda tail: "--" in tail, re.compile(r"-{2,}(?:BEGIN[A-Z0-9 ]*-*)?$")),
)
_WORD_CHAR = re.compile(r"\w")
_IBAN_SHAPE = re.compile(r"(?i)(?<![^\W_])[A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]){1,40}")
"""(One character per repetition, bounded: groups of 1-4 would let a failing match try every way to group a run.)"""
_TRAILING_MARKUP = re.compile(r"(?:[^\w\s]|</?[A-Za-z][A-Za-z0-9]{0,9}>)+$")
"""Punctuation and markup tags ending a token: ``.``, ``**``, ``</b>``, ``")``."""


def _number_run_start(pending: str) -> int:
    """Where the run of number-like tokens at the end of ``pending`` starts, if it holds a digit; else its length.

    Walks back token by token (any whitespace between), so a value whose last group ends in punctuation or markup
    is held whole, not just its last token."""
    end = len(pending)
    start = end
    has_digit = False
    while start > 0:
        token_end = start
        while token_end > 0 and pending[token_end - 1].isspace():
            token_end -= 1
        token_start = token_end
        while token_start > 0 and not pending[token_start - 1].isspace():
            token_start -= 1
        if token_start == token_end:
            break
        # number-like: a token holding a digit or spelling one, or a separator of punctuation or markup only
        if _number_like(pending, token_start, token_end):
            has_digit = True
        elif _WORD_CHAR.search(pending, token_start, token_end) is not None:
            break
        start = token_start
    return start if has_digit else end


LETTER = rf"(?:(?!{_D})[^\W\d_])"
"""A letter: a word character that is neither a digit in any form detection reads (``⁴``, ``①``) nor ``_``."""
_WORD_PIECE = re.compile(rf"\s*{LETTER}+")
_SPACE = re.compile(r"\s")  # what str.isspace() calls whitespace, the token boundary of safe_cut


def _first_piece(pending: str) -> bool:
    """A bare word after whitespace that no tail pattern can hold (not a keyword such as ``password``)."""
    return (
        _WORD_PIECE.fullmatch(pending) is not None
        and _KEYWORD.search(pending) is None
        and _cased_like_prose(pending)
        and _NUMBER_WORD.fullmatch(pending.strip()) is None
    )


def _cased_like_prose(word: str) -> bool:
    """No capital after the first letter: "Hello", "the", "I" go out at once, but "AKIAIOSFODNN", "GB", "SG" or
    "eyJ" (the start of an access key id, an IBAN, a SendGrid key, a JWT) wait, as a value might go on."""
    letters = word.strip()[1:]
    return letters == letters.lower()


_PLAIN_WORD = re.compile(rf"[(\"']?{LETTER}+[.,;:!?)\"']*")
"""A word of letters, maybe with punctuation around it: no digit, no ``_ - @ / = + < [``."""
_PEM_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*-----")
_PEM_END = re.compile(r"-----END [A-Z0-9 ]*-----")

DEFAULT_MAX_HOLD = 8192


def safe_cut(pending: str, *, hold_words: bool = True) -> int:
    """How much of ``pending`` can be released now: the index where the held-back tail starts.

    ``hold_words``: hold the last token even when it is a plain word (needed when a masked type can start with
    one: an email's local part, a name, a custom keyword).
    """
    cut = len(pending)
    token_start = cut
    while token_start > 0 and not pending[token_start - 1].isspace():
        token_start -= 1
    if token_start < cut and (
        hold_words
        or not _PLAIN_WORD.fullmatch(pending, token_start)
        or not _cased_like_prose(pending[token_start:].strip("(\"'.,;:!?)"))
    ):
        cut = token_start
    # the last token, trailing whitespace aside: where a number run or punctuation after a value would end
    core = len(pending)
    while core > 0 and pending[core - 1].isspace():
        core -= 1
    last = token_start if core == len(pending) else core
    while last > 0 and not pending[last - 1].isspace():
        last -= 1
    if core > last and (_number_like(pending, last, core) or _WORD_CHAR.search(pending, last, core) is None):
        cut = min(cut, _number_run_start(pending))
    tails = [pending]
    # A value may be followed by punctuation or markup, and spaces ("…7654 32. ", "…32</b>"): the tail patterns
    # are also tried on the text without them.
    if core > 0 and not pending[core - 1].isalnum():
        markup = _TRAILING_MARKUP.search(pending, last, core)
        if markup is not None:
            tails.append(pending[: markup.start()])
    for tail in tails:
        for applies, pattern in _TAIL_PATTERNS:
            if applies(tail):
                match = pattern.search(tail)
                if match is not None and match.start() < cut:
                    cut = match.start()
    # an open PEM block holds everything from its BEGIN line, and a cut never falls inside a closed one
    if "-----BEGIN" in pending:
        for begin in _PEM_BEGIN.finditer(pending):
            end = _PEM_END.search(pending, begin.end())
            if end is None or begin.start() < cut < end.end():
                cut = min(cut, begin.start())
                break
    # nor inside something shaped like an IBAN, whose letter groups end a run of number-like tokens ("GB82 WEST …")
    if cut < len(pending) and _DIGIT.search(pending, max(cut - 48, 0), cut) is not None:
        for shaped in _IBAN_SHAPE.finditer(pending, max(cut - 48, 0), cut + 48):
            if shaped.start() < cut < shaped.end():
                cut = shaped.start()
    # never cut inside a token: a pattern may start mid-word ("…fG4 " ends in a digit run), and half a token
    # released is half a secret that no detector can recognise any more
    if cut < len(pending):
        while cut > 0 and not pending[cut - 1].isspace():
            cut -= 1
    return cut


CONTEXT_CHARS = 64

Transform = Callable[[str, str], str]
"""``transform(context, segment)``: the masked (and restored) ``segment``. ``context`` is the text released just
before it, for detectors whose scores depend on nearby words ("account number: …"); it is never returned."""


class HoldExceeded(InspectionFailed):
    """A streamed answer held more text than ``max_hold`` that might still be part of a value (a huge unbroken
    token, a long run of digits). Releasing part of it could release part of a value, so the stream ends instead."""

    code = "answer_hold_exceeded"


class StreamMasker:
    """One channel of a stream. ``feed`` returns the text to send now; ``flush`` the rest at the end.

    If the held tail grows past ``max_hold`` characters, ``feed`` raises ``HoldExceeded`` (fail closed): the bound
    keeps memory and latency finite, and no part of what might be a value is released unread.
    """

    __slots__ = ("_context", "_hold_words", "_max_hold", "_pending", "_transform")

    def __init__(self, transform: Transform, max_hold: int = DEFAULT_MAX_HOLD, *, hold_words: bool = True) -> None:
        self._transform = transform
        self._pending = ""
        self._context = ""
        self._max_hold = max_hold
        self._hold_words = hold_words

    def _release(self, segment: str) -> str:
        context = self._context
        self._context = (context + segment)[-CONTEXT_CHARS:]
        return self._transform(context, segment)

    @property
    def held(self) -> int:
        return len(self._pending)

    def feed(self, text: str) -> str:
        if not text:
            return ""
        pending = self._pending + text
        # The tail is judged with the text already released before it: a word that went out at once may turn out
        # to start a value ("G" of "GB82 WEST …", "gh" of "ghp_…"); then the whole of what is pending waits, and
        # is scanned with that word as context when it is released.
        # (Only a word released before its end can leave the released text ending inside a tail; otherwise the tail
        # of the pending text alone decides, as safe_cut never releases the start of a tail.) Near a credential
        # word ("the key for prod: x7Kq…", "Kennwort lautet Blau…") no word goes out early: it may start the value.
        hold_words = self._hold_words or self._introduced(pending)
        if not hold_words and (not self._context or self._context[-1].isspace()) and _first_piece(pending):
            cut = len(pending)  # the common case, a word of prose starting after a space: what safe_cut would say
        elif self._context and not self._context[-1].isspace():
            # Only the first piece of a word may go out early: a piece that continues it waits for the token's
            # end (an access key id like AKIAIOSFODNN7EXAMPLE can run for eight letters before its first digit).
            if _SPACE.search(pending) is None:
                cut = 0  # the token goes on: safe_cut never cuts inside one, so it would hold all of this
            else:
                shift = len(self._context)
                cut = max(safe_cut(self._context + pending, hold_words=True) - shift, 0)
        else:
            cut = safe_cut(pending, hold_words=hold_words)
        if len(pending) - cut > self._max_hold:
            self._pending = ""
            raise HoldExceeded(
                f"the answer held more than {self._max_hold} characters that could be part of a sensitive value, "
                "so it was cut off rather than released unread"
            )
        if cut == 0:
            self._pending = pending
            return ""
        self._pending = pending[cut:]
        return self._release(pending[:cut])

    def _introduced(self, pending: str) -> bool:
        """Whether a credential word was released just before ``pending``, or is in it: then a plain word does not
        go out before its end, as it may start the value the word introduces."""
        context = self._context
        return (
            _KEYWORD.search(context, max(len(context) - _INTRODUCED, 0)) is not None
            or _KEYWORD.search(pending) is not None
        )

    def flush(self) -> str:
        pending, self._pending = self._pending, ""
        return self._release(pending) if pending else ""
