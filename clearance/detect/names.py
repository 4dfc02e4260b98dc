"""The shape of a person's name: what the PERSON detector reads once a cue says a name is there.

A name is one to four *name tokens*, maybe joined by lower-case particles (``van der``, ``de la``, ``bin``): a
token is a capitalised word of letters of any script, with apostrophes and hyphens inside (``O'Brien``,
``Ortega-López``, ``McDonald``, ``al-Hassan``, ``d'Angelo``), or an initial (``J.``, ``J.R.``). Capitals only
(``JANE DOE``) count when every token is so, as in a header; in scripts without capitals (Chinese, Arabic…) a
short word counts, though only cues that do not ask for a capital (fields, headers, greetings) can find it. No
digits, underscores or dots (but an initial's): ids, hashes, versions, hosts and file names never have the shape.
A word of the not-names list (``person_not_names.txt``: teams, roles, greetings, weekdays, product words) makes
the whole candidate no name.

No dictionary of given names: the cue (a greeting, a header, a field's key) says a name is there, and the shape
says where it ends, for names of every culture alike.
"""

from __future__ import annotations

import re
from importlib.resources import files


def _not_names() -> frozenset[str]:
    text = files("clearance.detect.builtin").joinpath("person_not_names.txt").read_text(encoding="utf-8")
    return frozenset(w for w in (line.strip() for line in text.splitlines()) if w and not w.startswith("#"))


NOT_NAMES = _not_names()
"""Lower-case words that follow name cues without being names (see the data file for where they come from)."""

PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "dos", "das", "du", "la", "le", "lo", "bin",
     "binti", "ibn", "bint", "al", "el", "ben", "ter", "ten", "zu", "af", "y", "e", "st"}
)  # fmt: skip
"""Lower-case words inside a name (``Ludwig van Beethoven``, ``Ana de la Cruz``); never at its start or end."""

_PREFIXES = frozenset({"al", "el", "ad", "as", "ash", "at", "d", "l", "da", "de", "di", "du", "van", "von", "bin"})
"""Lower-case heads of a token joined by ``-`` or ``'`` to a capitalised rest (``al-Hassan``, ``d'Angelo``)."""

_L = r"[^\W\d_]"
_WORD = rf"{_L}+(?:['\u2019\-]{_L}+)*"
TOKEN = rf"(?:(?:{_L}\.){{1,3}}|{_WORD}\.?)"
"""One token of a name, as a regular-expression fragment: an initial (``J.``, ``J.R.``) or a word."""
TOKEN_RE = re.compile(TOKEN)
_SEQUENCE = re.compile(rf"{TOKEN}(?:[ \t]+{TOKEN}){{0,7}}")

MAX_TOKENS = 4
_MAX_ACRONYM = 4
"""A name of one word in capitals must be longer than this (``PRIYA``): shorter ones are acronyms (``ID``, ``SSN``)."""
_MAX_CASELESS = 8
"""The longest word of a script without capitals taken as a name's (Chinese names are two to four characters;
longer runs are sentences, which such scripts write without spaces)."""

# Token kinds.
_BAD = 0
_NAME = 1
_INITIAL = 2
_CAPS = 3
_PARTICLE = 4
_STOP = 5


def token_kind(token: str) -> int:
    """The kind of one token (``TOKEN`` matched it)."""
    core = token[:-1] if token.endswith(".") else token
    if len(core) == 1:
        if core.isupper():
            return _INITIAL
        return _PARTICLE if core in PARTICLES else _BAD
    if "." in core:  # initials written together: J.R.
        return _INITIAL if all(len(p) == 1 and p.isupper() for p in core.split(".")) else _BAD
    lower = core.lower()
    if core[0].isupper():
        if lower in NOT_NAMES:
            return _STOP
        return _CAPS if core.isupper() else _NAME
    if lower in PARTICLES:
        return _PARTICLE if core.islower() else _BAD
    if not core[0].islower():
        # a script without capitals (Chinese, Japanese, Arabic, Hebrew, Devanagari…): a short word may be a name
        return _NAME if len(core) <= _MAX_CASELESS and not any(c.islower() or c.isupper() for c in core) else _BAD
    for sep in ("-", "'", "\u2019"):
        head, found, rest = core.partition(sep)
        if found and head in _PREFIXES and rest[:1].isupper():
            return _NAME
    return _BAD


def read_name(text: str, pos: int, *, end: int = -1) -> tuple[int, int]:
    """The name starting at ``pos``: its span, or ``(pos, pos)`` when none starts there.

    Reads tokens separated by spaces or tabs while they can be part of a name, at most ``MAX_TOKENS`` name tokens
    (more capitalised words in a row are a title, not a name: none is returned). A word of the not-names list
    anywhere in the run means no name. The name ends on a word, not on an initial or a particle; a full stop after
    its last word ends a sentence and is not part of it. ``end`` bounds the search (a quoted value's end)."""
    none = (pos, pos)
    match = _SEQUENCE.match(text, pos) if end < 0 else _SEQUENCE.match(text, pos, end)
    if match is None:
        return none
    name_end = pos
    names = 0
    caps: bool | None = None
    last = _BAD
    limit = len(text)
    for t in TOKEN_RE.finditer(text, match.start(), match.end()):
        kind = _BAD if t.end() < limit and _glued(text, t.end()) else token_kind(t.group())
        if kind == _STOP:
            return none
        if kind == _BAD:
            break
        if kind == _PARTICLE:
            continue  # part of the name only when a name token follows (``van der Berg``)
        if kind != _INITIAL:
            is_caps = kind == _CAPS
            if caps is None:
                caps = is_caps
            elif caps != is_caps:
                break
        names += 1
        if names > MAX_TOKENS:
            return none
        last = kind
        name_end = t.end()
        if kind != _INITIAL and t.group().endswith("."):
            name_end -= 1  # the end of a sentence
            break
    if last in (_INITIAL, _BAD):
        # "Hi J." or a run that ended on an initial: back off to the last word, if any
        if last == _INITIAL:
            return _back_to_word(text, pos, name_end)
        return none
    if caps and names == 1 and name_end - pos <= _MAX_ACRONYM:
        return none  # "customer ID", "assigned to QA", "employee SSN": an acronym
    after = name_end
    while after < len(text) and text[after] in " \t":
        after += 1
    if after > name_end and after < len(text) and text[after].isdigit():
        return none  # "Tier 2", "Room 101", "Build 7": a label of a number
    return (pos, name_end)


def _glued(text: str, pos: int) -> bool:
    """Whether the token ending at ``pos`` goes on as something else: ``EMP-123456``, ``Jane_Doe``, ``web01``,
    ``Doe@x``, ``Report.pdf``, ``a/b``. Such a token is part of an id, a login, a path or a host, not a name."""
    ch = text[pos]
    if ch.isalnum() or ch in "_-@/\\":
        return True
    return ch == "." and pos + 1 < len(text) and text[pos + 1].isalnum()


def _back_to_word(text: str, pos: int, end: int) -> tuple[int, int]:
    """The span from ``pos`` to the end of the last word token before ``end`` (none: ``(pos, pos)``)."""
    best = pos
    for t in TOKEN_RE.finditer(text, pos, end):
        if token_kind(t.group()) in (_NAME, _CAPS):
            best = t.end()
    return (pos, best)


def name_before(text: str, end: int) -> tuple[int, int]:
    """The name that ends at ``end`` (trailing spaces before ``end`` allowed), read back over the tokens of its
    line: ``On Mon, 3 Jun 2024, Jane Doe wrote:``. ``(end, end)`` when none."""
    stop = end
    while stop > 0 and text[stop - 1] in " \t":
        stop -= 1
    line = text.rfind("\n", 0, stop) + 1
    tokens = list(TOKEN_RE.finditer(text, max(line, stop - 120), stop))
    if not tokens or tokens[-1].end() != stop:
        return (end, end)
    start = -1
    for t in reversed(tokens):
        if start >= 0 and (t.end() == start or text[t.end() : start].strip(" \t")):
            break  # joined to the token after it, or punctuation between them
        if token_kind(t.group()) not in (_NAME, _CAPS, _INITIAL, _PARTICLE):
            break
        start = t.start()
    if start < 0:
        return (end, end)
    # read forward from the earliest plausible start to apply the same rules (particles, caps, stop words)
    while start < stop:
        found = read_name(text, start, end=stop)
        if found[1] == stop:
            return found
        nxt = text.find(" ", start, stop)
        if nxt < 0:
            break
        start = nxt + 1
        while start < stop and text[start] in " \t":
            start += 1
    return (end, end)


def is_name(value: str) -> bool:
    """Whether all of ``value`` (stripped) has the shape of a name."""
    stripped = value.strip()
    if not stripped:
        return False
    offset = value.find(stripped)
    return read_name(value, offset)[1] == offset + len(stripped)
