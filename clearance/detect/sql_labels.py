"""SQL labels: the column an ``INSERT … (columns) VALUES (…), (…)`` statement names for each value of its tuples.

In ``INSERT INTO accounts (id, routing_number, account_number) VALUES ('…', '011976408', '8316…')`` the column
list says what each value is, as a CSV header does for its column; ``insert_column`` gives the column of the
tuple element a span sits in, so that ``Document.field_label`` hands it to the context rules. Multi-row
statements label every tuple.

Cheap by construction: one ``rfind`` of ``values`` in the few kilobytes before a finding (``_REACH``) settles
the common case (no statement); only inside a statement is the column list read and the finding's tuple split,
with one regular expression per element before the finding. Statements longer than ``_REACH`` between their
``VALUES`` and a finding (long multi-row dumps) are not read: the rows beyond that reach get no label.
"""

from __future__ import annotations

import re
from typing import Final

from clearance.detect.labels import identifier_words

_REACH: Final = 4096
# ``INSERT [IGNORE] INTO <table> (<columns>)`` right before ``VALUES``, in lower case; the table name may be
# qualified and quoted (``"public"."accounts"``, `` `accounts` ``, ``[dbo].[accounts]``).
_HEAD: Final = re.compile(
    r"insert\s+(?:ignore\s+|or\s+\w+\s+)?into\s+[\w.\"`\[\]]+\s*\(([^()]{1,2000})\)\s*$",
)
_INSERT_BEFORE: Final = 2400  # how far before ``VALUES`` its ``INSERT INTO`` may start (the column list's length)
# One element of a tuple: a quoted string (doubled quotes and backslash escapes inside; with a prefix such as
# N'…', E'…', _utf8'…'), or anything up to the next comma or closing parenthesis (numbers, NULL, a function call
# without nested parentheses).
_ELEMENT: Final = re.compile(
    r"\s*(?:[a-z_0-9]*'(?:[^'\\]|''|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,'\"()]*(?:\([^()]*\))?[^,'\"()]*)\s*",
    re.DOTALL,
)
_NAME_QUOTES: Final = '"`[] \t\r\n'


def insert_column(text: str, lower: str, start: int, end: int) -> str:
    """The column (as identifier words) that an ``INSERT … VALUES`` statement gives to the tuple element holding
    ``text[start:end]``, or ``""`` when the span is not inside such a statement's values. ``lower`` is ``text``
    lower-cased with the same offsets (``Document.lower``); column names are read from ``text``, whose case
    splits them (``AcctNo``)."""
    values = lower.rfind("values", max(0, start - _REACH), start)
    if values < 0:
        return ""
    # ``rfind`` first: a regular expression searched from every position of the span would cost each finding
    # near a "values" word (JSON keys, prose) far more than the ``rfind``s do.
    # The last "insert" may be inside the column list (``inserted_at``): try the ones before it.
    lo = max(0, values - _INSERT_BEFORE)
    insert = lower.rfind("insert", lo, values)
    head = None
    while insert >= 0 and head is None:
        head = _HEAD.match(lower, insert, values)
        insert = lower.rfind("insert", lo, insert)
    if head is None:
        return ""
    opening = _tuple_start(lower, values + 6, start)
    if opening < 0:
        return ""
    k = _element_index(lower, opening + 1, start, end)
    if k < 0:
        return ""
    columns = text[head.start(1) : head.end(1)].split(",")
    return identifier_words(columns[k].strip(_NAME_QUOTES)) if k < len(columns) else ""


def _tuple_start(lower: str, lo: int, start: int) -> int:
    """The ``(`` that opens the tuple holding ``start``: the last one before it that follows ``VALUES`` or the
    ``,`` between two tuples (a parenthesis inside a value follows neither), or -1."""
    at = start
    while True:
        at = lower.rfind("(", lo, at)
        if at < 0:
            return -1
        before = lower[lo:at].rstrip()
        if before == "" or before.endswith(","):
            return at


def _element_index(lower: str, pos: int, start: int, end: int) -> int:
    """The index of the tuple element (from ``pos``, just after the tuple's ``(``) whose text holds
    ``start``..``end``, or -1 when the span straddles elements or the tuple closes before it."""
    k = 0
    while pos <= start:
        match = _ELEMENT.match(lower, pos)
        if match is None:  # pragma: no cover - the pattern matches the empty string
            return -1
        stop = match.end()
        if stop >= end:
            return k
        if stop >= len(lower) or lower[stop] != ",":
            return -1
        k += 1
        pos = stop + 1
    return -1
