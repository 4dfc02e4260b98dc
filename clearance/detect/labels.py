"""Field labels: the words of a key or a column header, written the way people write identifiers.

A value's label is what names the field it sits in: a table's column header (``tables.py``) or the key of a
``key: value`` / ``key=value`` / ``"key": value`` field. Context rules read a label as if it were written right
before the value (``context.py``), so the label must be in the words the rules use: ``identifier_words`` splits
snake_case, kebab-case, camelCase and PascalCase, dots and ``#`` (``AccountNumber``, ``acct_no``, ``Account #``,
``bank-account-number``, ``SOCIAL_SECURITY_NO`` read ``account number``, ``acct no``, ``account #``, ``bank
account number``, ``social security no``).

A plain key right before its value is already in the character window that context rules read; ``key_before``
adds its words as the identifier they are (``accountNumber`` holds no whole word ``account``), and reaches a value
on the line after its ``key:``. Both functions read a few dozen characters at most: they cost a finding nothing
that grows with the text.
"""

from __future__ import annotations

from typing import Final

# Characters that separate the words of an identifier; ``#`` is a word of its own (``acct#`` is ``acct #``).
_SEPARATORS: Final = frozenset(" \t_-.,;|:\"'()[]{}")
_SEPARATOR_TABLE: Final = str.maketrans(dict.fromkeys(_SEPARATORS, " "))
# Characters a key may hold (besides letters and digits), read backwards from its ``:`` or ``=``.
_KEY_CHARS: Final = frozenset("_-.#/")
_MAX_KEY: Final = 64


def identifier_words(name: str) -> str:
    """The lower-case words of ``name`` joined by single spaces: ``"SSNNumber"`` is ``"ssn number"``.

    Splits at separators (space, ``_ - . , ; | :``, quotes, brackets), before an upper-case letter that follows
    a lower-case letter or a digit, and before the last upper-case letter of a run that a lower-case letter
    follows (``SSNNumber``); ``#`` is a word of its own. Other characters (``a/c``) stay.
    """
    if name.lower() == name and "#" not in name:
        # No case to split at (most keys and headers): separators become single spaces, in C.
        return " ".join(name.translate(_SEPARATOR_TABLE).split())
    words: list[str] = []
    word: list[str] = []
    n = len(name)
    for i in range(n):
        ch = name[i]
        if ch in _SEPARATORS or ch == "#":
            if word:
                words.append("".join(word))
                word = []
            if ch == "#":
                words.append("#")
            continue
        if word and ch.isupper():
            prev = name[i - 1]
            if prev.islower() or prev.isdigit() or (prev.isupper() and i + 1 < n and name[i + 1].islower()):
                words.append("".join(word))
                word = []
        word.append(ch)
    if word:
        words.append("".join(word))
    return " ".join(words).lower()


def key_before(text: str, start: int) -> str:
    """The key of the field whose value starts at ``start`` (its raw text), or ``""`` when there is none.

    The value may be quoted and follow ``:`` or ``=`` after spaces and at most one line break (``"acct":
    "1234…"``, ``accountNo=1234…``, ``acct_no:`` and the value on the next line). A key is one identifier of
    letters, digits and ``_ - . # /``, or what a pair of quotes holds on one line (``"Account Number": …``); at
    most 64 characters.
    """
    lo = max(0, start - _MAX_KEY - 16)
    i = start
    breaks = 0
    while i > lo:
        ch = text[i - 1]
        if ch == "\n":
            breaks += 1
            if breaks > 1:
                return ""
        elif ch not in " \t\r\"'":
            break
        i -= 1
    if i <= lo or text[i - 1] not in ":=":
        return ""
    i -= 1
    while i > lo and text[i - 1] in " \t":
        i -= 1
    quote = text[i - 1] if i > lo and text[i - 1] in "\"'" else ""
    if quote:
        i -= 1
    end = i
    floor = max(lo, end - _MAX_KEY)
    if quote:
        # A quoted key may hold spaces: up to its opening quote, on the same line.
        opening = text.rfind(quote, floor, end)
        if opening >= 0 and text.find("\n", opening, end) < 0:
            return text[opening + 1 : end].strip()
        return ""
    # An unquoted key is one identifier: the words before it are prose ("I updated my acct: …").
    while i > floor and (text[i - 1].isalnum() or text[i - 1] in _KEY_CHARS):
        i -= 1
    # A YAML list item's dash is not part of its key.
    return text[i:end].lstrip("-.")
