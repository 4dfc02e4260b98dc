"""Number runs: the shared candidates of every numeric detector (cards, SSNs, phones, bank numbers, IPv4).

One pass finds each run of digits joined by separators (space, ``-``, ``.``, ``/``, parentheses) that is at least
seven characters long; detectors then reason about its digit groups and the gaps between them instead of each
scanning the whole text with patterns of their own. The pass reads the text's skeleton (``skeleton.py``), where
every digit is ``0``: a byte search skips to each digit, and loops over bytes read the run (compiled with mypyc,
they are native code).

A run is *glued* to a neighbouring token when it touches a letter, digit or underscore, directly or through a
``-``, ``.`` or ``/`` (``a456-4266141740``, ``v1.2.3.4``, ``Chrome/120.0.6099``): such groups belong to an
identifier (a UUID, a hash, a version string) and are not offered to detectors. A run never starts glued (such
digits are passed over); at its right end, ``hi`` is the last group that is free of the token that follows.
A run with no free group is not returned at all, nor is a run that is exactly a date or the seconds of a time.
"""

from __future__ import annotations

import itertools
from typing import Final

from mypy_extensions import i64

from clearance.detect.skeleton import ascii_view, skeleton

# The trigger of every detector that reads number runs: it matches wherever a run starts (a digit and six more
# run characters), and its automaton is small, so it costs the trigger pass little (see prefilter.py).
NUMBER_RUN_TRIGGER = r"[0-9][0-9 \-./()]{6}"
_JOINERS = "-./"
_FREE_AFTER = frozenset(" \t\r\n,;:!?)]}>\"'")

# The pass reads the skeleton byte by byte; compiled with mypyc, these loops are native code, with positions held
# as machine integers (``i64``; plain ints in pure Python). What each byte is to the pass, as bit flags: over the
# skeleton, digits are 0 and letters A or a.
_DIGIT: Final = 48  # "0"
_SPACE: Final = 32
_COLON: Final = 58
_DOT: Final = 46
_RUN_CHAR: Final = 1  # a digit or a separator: 0, space, "-", ".", "/", "(", ")"
_SEPARATOR: Final = 2  # a separator
_GLUE: Final = 4  # a letter, digit or underscore: a run never starts right after one
_JOINER: Final = 8  # "-", ".", "/": they glue a digit to the token before them
_ALNUM: Final = 16  # an ASCII letter or digit
_FLAGS: Final = bytes(
    (_RUN_CHAR if c in b"0 -./()" else 0)
    | (_SEPARATOR if c in b" -./()" else 0)
    | (_GLUE if c in b"Aa0_" else 0)
    | (_JOINER if c in b"-./" else 0)
    | (_ALNUM if c in b"Aa0" else 0)
    for c in range(256)
)
_MIN_RUN: Final = 7
_NEAR: Final = 32


class NumberRun:
    """Digit groups and the separators (gaps) between them, at absolute offsets in the text.

    ``parts`` alternates groups and gaps: ``("2024", "-", "01", "-", "15")``; group ``k`` is ``parts[2k]``, and
    ``raw`` is the run's text. ``offsets`` holds where each part starts and, last, where the run ends. Detectors
    visit every group of every run, so the methods here read ``parts`` directly rather than call one another.
    """

    __slots__ = ("end", "hi", "lo", "ndigits", "offsets", "parts", "raw", "sizes", "start", "text")

    def __init__(self, text: str, start: int, raw: str, parts: list[str], offsets: list[int], lo: int, hi: int) -> None:
        self.text = text
        self.start = start
        self.end = start + len(raw)
        self.raw = raw
        self.parts = parts
        self.offsets = offsets
        sizes: list[int] = []
        ndigits = 0
        for k in range(0, len(parts), 2):
            size = len(parts[k])
            sizes.append(size)
            if lo <= k // 2 <= hi:
                ndigits += size
        self.sizes: tuple[int, ...] = tuple(sizes)
        self.lo = lo
        self.hi = hi
        self.ndigits = ndigits

    def gap(self, k: int) -> str:
        """The separator between group ``k`` and group ``k + 1``."""
        return self.parts[2 * k + 1]

    def digits(self, i: int, j: int) -> str:
        """The digits of groups ``i``..``j`` (inclusive), separators dropped."""
        return "".join(self.parts[2 * i : 2 * j + 1 : 2])

    def joined_before(self, i: int) -> bool:
        """Group ``i`` continues the group before it without a space (``12-34``, ``1.2``)."""
        return i > 0 and " " not in self.parts[2 * i - 1]

    def joined_after(self, j: int) -> bool:
        return 2 * j + 1 < len(self.parts) and " " not in self.parts[2 * j + 1]

    def isolated(self, i: int, j: int) -> bool:
        """Groups ``i``..``j`` stand alone: free, and not joined to a neighbouring group without a space."""
        parts = self.parts
        return (
            self.lo <= i
            and j <= self.hi
            and (i == 0 or " " in parts[2 * i - 1])
            and (2 * j + 1 >= len(parts) or " " in parts[2 * j + 1])
        )

    def span(self, i: int, j: int) -> tuple[int, int]:
        offsets = self.offsets
        return offsets[2 * i], offsets[2 * j + 1]


def _glued_right(text: str, end: int) -> bool:
    if end >= len(text):
        return False
    after = text[end]
    if after.isalnum() or after == "_":
        # "415-555-2671x123": an extension, not a longer token.
        return not (after in "xX" and end + 1 < len(text) and text[end + 1].isdigit())
    return after in _JOINERS and end + 1 < len(text) and (text[end + 1].isalnum() or text[end + 1] == "_")


def _group_end(classes: bytes, i: i64, n: i64) -> i64:
    """Where the digit group that holds ``classes[i]`` ends."""
    while i < n and classes[i] == _DIGIT:
        i += 1
    return i


def _next_digit(classes: bytes, i: i64, n: i64) -> i64:
    """Where the first digit at or after ``i`` is (``n``: none). Digits are usually a few bytes apart, and a loop
    reaches them sooner than a method call would; a long stretch without one is left to ``bytes.find``."""
    near: i64 = min(i + _NEAR, n)
    while i < near:
        if classes[i] == _DIGIT:
            return i
        i += 1
    if i >= n:
        return n
    found: i64 = classes.find(b"0", i)
    return n if found < 0 else found


def _time_seconds(classes: bytes, i: i64, n: i64) -> bool:
    """The digit at ``i`` follows a colon and starts the seconds of a time (``:45.123456``): a decimal point within
    two characters, then only digits and single joiners, and separators that no digit follows, up to the end of
    the run. Logs are full of them."""
    if i == 0 or classes[i - 1] != _COLON:
        return False
    k = i + 1
    if not ((k < n and classes[k] == _DOT) or (k + 1 < n and classes[k] == _DIGIT and classes[k + 1] == _DOT)):
        return False
    k = _group_end(classes, k, n)
    while k + 1 < n and _FLAGS[classes[k]] & _JOINER and classes[k + 1] == _DIGIT:
        k = _group_end(classes, k + 1, n)
    while k < n and _FLAGS[classes[k]] & _SEPARATOR:
        k += 1
    return not (k < n and classes[k] == _DIGIT)


def _is_date(classes: bytes, start: i64, end: i64) -> bool:
    """``classes[start:end]`` is exactly a date: 2024-01-15, 15.01.2024, 01/15/24 (one separator, used twice)."""
    if end - start > 10:
        return False
    a = _group_end(classes, start, end)
    if a + 1 >= end or not _FLAGS[classes[a]] & _JOINER:
        return False
    b = _group_end(classes, a + 1, end)
    if b + 1 >= end or classes[b] != classes[a]:
        return False
    c = _group_end(classes, b + 1, end)
    if c != end:
        return False
    first, second, third = a - start, b - a - 1, c - b - 1
    if not 1 <= second <= 2:
        return False
    return (first == 4 and 1 <= third <= 2) or (1 <= first <= 2 and (third == 2 or third == 4))


def find_number_runs(text: str, classes: bytes | None = None) -> tuple[NumberRun, ...]:
    """The number runs of ``text``; ``classes`` is its skeleton, when the caller has it already."""
    if classes is None:
        classes = skeleton(ascii_view(text))
    flags = _FLAGS
    runs: list[NumberRun] = []
    n: i64 = len(classes)
    i = _next_digit(classes, 0, n)
    while i < n:
        # A run starts at a digit that is not glued to a token on its left, directly or through a joiner; the
        # digits after it in its group are glued to it, so a rejected start rejects its whole group.
        before = flags[classes[i - 1]] if i > 0 else 0
        if (
            before & _GLUE
            or (before & _JOINER and i > 1 and flags[classes[i - 2]] & _GLUE)
            or _time_seconds(classes, i, n)
        ):
            i = _next_digit(classes, _group_end(classes, i + 1, n), n)
            continue
        stop = i + 1
        while stop < n and flags[classes[stop]] & _RUN_CHAR:
            stop += 1
        if stop - i < _MIN_RUN:
            i = _next_digit(classes, _group_end(classes, i + 1, n), n)
            continue
        run = _read_run(text, classes, i, stop)
        if run is not None:
            runs.append(run)
        i = _next_digit(classes, stop, n)
    return tuple(runs)


def _read_run(text: str, classes: bytes, start: i64, stop: i64) -> NumberRun | None:
    """The run of digits and separators ``text[start:stop]`` (trailing separators dropped), or None when it is
    too short, holds no free group, or is a date or the seconds of a time."""
    end = stop
    while classes[end - 1] != _DIGIT:
        end -= 1
    if end - start < _MIN_RUN:
        return None
    spaced = False
    for k in range(start, end):
        if classes[k] == _SPACE:
            spaced = True
            break
    n: i64 = len(text)
    glued_right = end < n and text[end] not in _FREE_AFTER and _glued_right(text, end)
    if not spaced and (
        glued_right
        or _is_date(classes, start, end)
        # the seconds of a time: 10:23:45.123456
        or (start > 0 and classes[start - 1] == _COLON and (classes[start + 1] == _DOT or classes[start + 2] == _DOT))
    ):
        return None
    # Groups and gaps, and where each starts.
    parts: list[str] = []
    offsets: list[int] = [start]
    k = start
    while True:
        group_end = _group_end(classes, k, end)
        parts.append(text[k:group_end])
        offsets.append(group_end)
        if group_end == end:
            break
        k = _next_digit(classes, group_end, end)
        parts.append(text[group_end:k])
        offsets.append(k)
    hi = len(parts) // 2
    if glued_right:
        hi -= 1
        while hi >= 0 and " " not in parts[2 * hi + 1]:
            hi -= 1
    if hi < 0:
        return None
    return NumberRun(text, start, text[start:end], parts, offsets, 0, hi)


# ---- spaced runs: digit groups joined by any separator, used the same way every time

# The trigger of the detectors that read spaced runs: nine digits, each pair at most ``_MAX_GAP`` characters of
# anything but letters and digits apart.
SPACED_RUN_TRIGGER = r"[0-9](?:[^0-9A-Za-z]{0,8}[0-9]){8}"
_MAX_GAP: Final = 8
_MIN_SPACED_DIGITS: Final = 9
_MAX_SPACED_DIGITS: Final = 19
_MAX_ACCOUNT_DIGITS: Final = 17
_NON_ASCII: Final = 63  # "?": a non-ASCII character, or a question mark


def _alnum_at(text: str, classes: bytes, k: i64) -> bool:
    """``text[k]`` is a letter or a digit, of any script."""
    c = classes[k]
    if c == _NON_ASCII:
        return text[k].isalnum()
    return bool(_FLAGS[c] & _ALNUM)


def _separators_only(text: str, classes: bytes, start: i64, end: i64) -> bool:
    """``text[start:end]`` holds no letter (it holds no digit: it lies between two digit groups)."""
    k = start
    while k < end and not _alnum_at(text, classes, k):
        k += 1
    return k == end


def find_spaced_runs(text: str, classes: bytes | None = None) -> tuple[NumberRun, ...]:
    """The spaced runs of ``text``: maximal sequences of two or more digit groups joined, every time, by the same
    separator (one to ``_MAX_GAP`` characters that are neither letters nor digits, of any script: ``|``, ``_``,
    ``, ``, a tab, a newline, runs of spaces, ``•``…), holding 9 to 19 digits in all (a date has eight).

    This is how a card, an SSN or an account number written with an unusual separator (``4111|1111|1111|1111``,
    ``123_45_6789``, a space between every digit) is found, and what keeps tables of numbers from turning into
    one: a detector takes a spaced run whole or not at all, so a value must be the entire sequence that its
    separator joins, and CSV rows, timestamps and dotted versions (whose separators change, or whose sequence
    goes on past the value) are not offered. A group that touches a letter belongs to a token, not a number, and
    breaks the sequence. Where the separator changes, the group between belongs to both the run before it and
    the run after it. ``lo`` is always 0 and ``hi`` the last group.
    """
    if classes is None:
        classes = skeleton(ascii_view(text))
    runs: list[NumberRun] = []
    n: i64 = len(classes)
    # The run being read: where its first group starts, where its last group starts and ends, where its gap (the
    # text between its first two groups) is and how long, how many groups and digits it has.
    first: i64 = 0
    last: i64 = 0
    end: i64 = 0
    gap_at: i64 = 0
    gap_len: i64 = 0
    groups: i64 = 0
    digits: i64 = 0
    i = _next_digit(classes, 0, n)
    while i < n:
        group_end = _group_end(classes, i, n)
        size = group_end - i
        if (i > 0 and _alnum_at(text, classes, i - 1)) or (group_end < n and _alnum_at(text, classes, group_end)):
            if groups >= 2:
                _add_spaced_run(text, text[gap_at : gap_at + gap_len], first, end, digits, runs)
            groups = 0
        elif groups == 0 or i - end > _MAX_GAP or not _separators_only(text, classes, end, i):
            if groups >= 2:
                _add_spaced_run(text, text[gap_at : gap_at + gap_len], first, end, digits, runs)
            first, groups, digits = i, 1, size
        else:
            if groups == 1:
                gap_at, gap_len = end, i - end
            elif not (i - end == gap_len and _same_gap(text, classes, gap_at, end, gap_len)):
                _add_spaced_run(text, text[gap_at : gap_at + gap_len], first, end, digits, runs)
                # The last group opens the next run: the two runs share it.
                gap_at, gap_len = end, i - end
                first, groups, digits = last, 1, end - last
            groups += 1
            digits += size
        last, end = i, group_end
        i = _next_digit(classes, group_end, n)
    if groups >= 2:
        _add_spaced_run(text, text[gap_at : gap_at + gap_len], first, end, digits, runs)
    return tuple(runs)


def _same_gap(text: str, classes: bytes, a: i64, b: i64, size: i64) -> bool:
    """``text[a:a + size] == text[b:b + size]``, read in the skeleton (no copies) but for non-ASCII characters."""
    k: i64 = 0
    while k < size:
        c = classes[a + k]
        if c != classes[b + k] or (c == _NON_ASCII and text[a + k] != text[b + k]):
            return False
        k += 1
    return True


# The gaps of number runs (``find_number_runs``): what a spaced run joined by one of them can add is only a long
# number in small groups (one digit at a time, pairs) or in even groups (an account number).
_RUN_GAPS = frozenset("".join(g) for n in (1, 2, 3) for g in itertools.product(" -.", repeat=n))


def _add_spaced_run(text: str, gap: str, start: i64, end: i64, digits: i64, runs: list[NumberRun]) -> None:
    """Append ``text[start:end]``, ``digits`` digits in groups joined by ``gap``, to ``runs`` when that many digits
    can be a value, and the number runs do not hold it already."""
    if not _MIN_SPACED_DIGITS <= digits <= _MAX_SPACED_DIGITS:
        return
    raw = text[start:end]
    groups = raw.split(gap)
    if gap in _RUN_GAPS:
        sizes = tuple(len(g) for g in groups)
        if not (evenly_grouped(sizes) and (sizes[0] <= 2 or digits <= _MAX_ACCOUNT_DIGITS)):
            return
    parts: list[str] = []
    offsets: list[int] = []
    at = start
    width = len(gap)
    for group in groups:
        if parts:
            parts.append(gap)
            offsets.append(at)
            at += width
        if not group.isdigit() or not group.isascii():
            return
        parts.append(group)
        offsets.append(at)
        at += len(group)
    offsets.append(end)
    runs.append(NumberRun(text, start, raw, parts, offsets, 0, len(parts) // 2))


_WIDEST_EVEN_GROUP: Final = 6


def evenly_grouped(sizes: tuple[int, ...]) -> bool:
    """Every group but the last has the same size, at most six, and the last is no longer: how people write a long
    number in groups (``4111 1111 1111 1111``, ``123 456 789 01``, one digit at a time)."""
    first = sizes[0]
    if first > _WIDEST_EVEN_GROUP:
        return False
    for k in range(1, len(sizes) - 1):
        if sizes[k] != first:
            return False
    return sizes[-1] <= first


# ---- timestamps: numbers that are times, not accounts, phones or SSNs

# Epoch values of the years a log or an export holds (2001-09-09 to 2033-05-18): ten digits in seconds, thirteen
# in milliseconds, sixteen in microseconds. Each starts with "1" at these lengths.
_EPOCH_LENGTHS: Final = frozenset({10, 13, 16})
# Digit-only datetime stamps: YYYYMMDD followed by HHMM, HHMMSS or HHMMSS and milliseconds.
_STAMP_LENGTHS: Final = frozenset({12, 14, 17})


def timestamp_like(digits: str) -> bool:
    """``digits`` (ASCII digits only) read as a time: an epoch value of this century's first decades in seconds,
    milliseconds or microseconds, or a digit-only datetime stamp (``20241231235959``, ``202412312359``) whose
    date and time fields are in range.

    A number of these shapes is a time far more often than an account, a phone or an SSN: detectors drop such a
    candidate unless a label right before it names what it is (``label_before``).
    """
    n = len(digits)
    if n in _EPOCH_LENGTHS and digits[0] == "1":
        return True
    if n not in _STAMP_LENGTHS or not ("19" <= digits[:2] <= "20"):
        return False
    month, day, hour, minute = int(digits[4:6]), int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour <= 23 and minute <= 59):
        return False
    return n == 12 or int(digits[12:14]) <= 59


# What may stand between a label and its value: ``account: 123``, ``acct #123``, ``SSN#123``, ``no. 123``,
# ``"account_number": "123"``; and the verbs of ``my acct no is 123``.
_LABEL_PUNCTUATION: Final = " \t:#=.-\"'"
_LABEL_VERBS: Final = (" is", " was", " are")


def label_before(lower: str, start: int, labels: tuple[str, ...]) -> bool:
    """One of ``labels`` (lower case, words separated by spaces) is the last word before ``lower[start:]``, with at
    most punctuation, quotes or ``is`` between (``acct no: 1718000000000``, ``my acct no is 1485893399``,
    ``"account_number": "1065267592008190"``); underscores count as spaces. Reads a few characters: call it on
    candidates, not on every number."""
    head = lower[max(0, start - 48) : start].rstrip(_LABEL_PUNCTUATION)
    for verb in _LABEL_VERBS:
        if head.endswith(verb):
            head = head[: -len(verb)].rstrip(_LABEL_PUNCTUATION)
            break
    head = head.replace("_", " ")
    for label in labels:
        if head.endswith(label):
            before = len(head) - len(label) - 1
            if before < 0 or not head[before].isalnum():
                return True
    return False
