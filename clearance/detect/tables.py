"""Tables in a text: which column header names the cell a value sits in.

In a CSV export the word that says what a value is sits in the header line, rows above the value and out of reach
of the character window that context rules read. ``Tables.label(start, end)`` gives the header of the column
whose cell holds a span, so that context rules read it as if it were written right before the value.

What counts as a table, for each delimiter (tab, ``|``, ``;``, ``,``):

* a *record* is a line holding the delimiter, split into cells; a cell that starts with ``"`` is quoted as in RFC
  4180 (``""`` is a quote, and the delimiter or a line break inside it belong to the cell);
* a *block* is a run of consecutive records; a blank line or a line without the delimiter ends it. Rule lines
  (``|---|:--:|``, ``+----+----+``, psql's ``-----+-----``) belong to the block and are not records; for ``|``,
  an empty cell before a leading ``|`` and after a trailing one is dropped (Markdown, ASCII, MySQL tables);
* a block's *header* is its first record when every non-empty cell is a short label (a letter, ``#`` or ``_``
  first, at most five words and 48 characters, no ``@`` or ``://``), at least two cells hold one, and the record
  after it fits it (below; otherwise its first row is data, and the block has no header). Later in the block, a
  label record with a record of its own width after it starts a new table when its width differs from the
  current header's, or when the block has no header yet and a rule line is under it (psql, Markdown);
* a data record is labelled cell by cell: the ``k``-th cell by the header's ``k``-th label. A ragged record with
  fewer cells than the header gets the labels of the cells it has; one with more gets them only when its extra
  cells are empty (a trailing delimiter), since otherwise an unquoted delimiter in a value shifted its cells.

A text's tables are parsed once, lazily: only when a value lies on a line that holds a delimiter and the line
above holds it too (or a rule, or a quote), and then for that delimiter only, in one pass linear in the text
(``str.find`` from record to record; a character loop only inside records that hold a quote). A ``Tables``
belongs to one ``Document``, built for one scan.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

from clearance.detect.labels import identifier_words

# In the order a line's delimiters are tried: a tab or a pipe separates cells more surely than a comma, which
# also separates thousands and the clauses of prose.
DELIMITERS: Final = ("\t", "|", ";", ",")
_MAX_LINE: Final = 4096  # a longer line is not a table row
_MAX_QUOTED: Final = 8192  # a quoted cell that does not close within this many characters is not quoted
_MAX_LABEL: Final = 48
_MAX_LABEL_WORDS: Final = 5
_RULE_CHARS: Final = frozenset("-+=:| \t")


class _Table:
    """The records of one delimiter: where each starts and ends, its cells, and its header's labels."""

    __slots__ = ("cells", "ends", "labels", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.cells: list[list[tuple[int, int]]] = []
        # The header labels of each record's table; None when it has none (a header itself, or no header above).
        self.labels: list[list[str] | None] = []

    def label(self, start: int, end: int) -> str:
        i = bisect_right(self.starts, start) - 1
        if i < 0 or end > self.ends[i]:
            return ""
        labels = self.labels[i]
        if labels is None:
            return ""
        cells = self.cells[i]
        for k in range(len(cells)):
            lo, hi = cells[k]
            if lo <= start and end <= hi:
                return labels[k] if k < len(labels) else ""
            if lo > start:
                break
        return ""


def _is_rule(text: str, start: int, end: int) -> bool:
    """A table's rule line: only ``- + = : |`` and blanks, with a run of three dashes or equals signs."""
    if text.find("---", start, end) < 0 and text.find("===", start, end) < 0:
        return False
    return all(ch in _RULE_CHARS for ch in text[start:end])


def _label(cell: str) -> str | None:
    """The words of a header cell, ``""`` for an empty one, None when the cell is not a label."""
    cell = cell.strip(" \t\r")
    if len(cell) >= 2 and cell[0] == '"' and cell[-1] == '"':
        cell = cell[1:-1].replace('""', '"').strip()
    if not cell:
        return ""
    if len(cell) > _MAX_LABEL or not (cell[0].isalpha() or cell[0] in "#_") or "@" in cell or "://" in cell:
        return None
    words = identifier_words(cell)
    if not words or words.count(" ") >= _MAX_LABEL_WORDS:
        return None
    return words


def _header(text: str, cells: list[tuple[int, int]]) -> list[str] | None:
    """The labels of a record's cells when it can be a header, else None."""
    if len(cells) < 2:
        return None
    labels: list[str] = []
    named = 0
    for lo, hi in cells:
        label = _label(text[lo:hi])
        if label is None:
            return None
        if label:
            named += 1
        labels.append(label)
    return labels if named >= 2 else None


def _quoted_cells(text: str, start: int, line_end: int, delimiter: str) -> tuple[list[tuple[int, int]], int]:
    """The cells of the record at ``start`` with RFC 4180 quotes, and where the record ends (it may hold line
    breaks inside quotes). A quote that does not close, or closes far away, leaves its cell unquoted."""
    n = len(text)
    cells: list[tuple[int, int]] = []
    i = start
    end = line_end
    while True:
        cell_start = i
        if i < n and text[i] == '"':
            j = i + 1
            close = -1
            limit = min(n, i + _MAX_QUOTED)
            while j < limit:
                q = text.find('"', j, limit)
                if q < 0:
                    break
                if q + 1 < n and text[q + 1] == '"':
                    j = q + 2
                    continue
                close = q
                break
            if close >= 0:
                i = close + 1
                if i > end:
                    nl = text.find("\n", i)
                    end = n if nl < 0 else nl
        nxt = text.find(delimiter, i, end)
        if nxt < 0:
            cells.append((cell_start, end))
            return cells, end
        cells.append((cell_start, nxt))
        i = nxt + 1


def _plain_cells(start: int, line_end: int, text: str, delimiter: str) -> list[tuple[int, int]]:
    cells: list[tuple[int, int]] = []
    i = start
    while True:
        nxt = text.find(delimiter, i, line_end)
        if nxt < 0:
            cells.append((i, line_end))
            return cells
        cells.append((i, nxt))
        i = nxt + 1


def _trim_pipes(text: str, cells: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``| a | b |``: the empty cells outside the leading and trailing pipes are not cells."""
    if len(cells) >= 3 and not text[cells[0][0] : cells[0][1]].strip():
        cells = cells[1:]
        if not text[cells[-1][0] : cells[-1][1]].strip(" \t\r"):
            cells = cells[:-1]
    return cells


def _parse(text: str, delimiter: str) -> _Table:
    """Every record of ``delimiter`` in ``text``, with its table's header labels (see the module docstring)."""
    table = _Table()
    n = len(text)
    # Blocks as lists of record indices; a rule line is remembered as following the record before it.
    blocks: list[list[int]] = []
    ruled: set[int] = set()
    block: list[int] = []
    pos = 0
    while pos < n:
        nl = text.find("\n", pos)
        line_end = n if nl < 0 else nl
        if _is_rule(text, pos, line_end):
            if block:
                ruled.add(block[-1])
            pos = line_end + 1
            continue
        cells: list[tuple[int, int]] = []
        record_end = line_end
        if line_end - pos <= _MAX_LINE:
            # A quoted cell may hold the delimiter, or line breaks and the delimiter after them.
            if text.find('"', pos, line_end) >= 0:
                cells, record_end = _quoted_cells(text, pos, line_end, delimiter)
            elif text.find(delimiter, pos, line_end) >= 0:
                cells = _plain_cells(pos, line_end, text, delimiter)
            if delimiter == "|":
                cells = _trim_pipes(text, cells)
        if len(cells) < 2:
            if block:
                blocks.append(block)
            block = []
            pos = line_end + 1
            continue
        block.append(len(table.starts))
        table.starts.append(pos)
        table.ends.append(record_end)
        table.cells.append(cells)
        table.labels.append(None)
        pos = record_end + 1
    if block:
        blocks.append(block)
    for records in blocks:
        _label_block(text, table, records, ruled)
    return table


def _label_block(text: str, table: _Table, records: list[int], ruled: set[int]) -> None:
    """Give each data record of a block its table's header labels."""
    header: list[str] | None = None
    for pos in range(len(records)):
        r = records[pos]
        cells = table.cells[r]
        nxt = records[pos + 1] if pos + 1 < len(records) else -1
        # A block's header has a row under it that fits it (ragged rows do); a new table in the block, a row of
        # its own width under a header of another width, or a rule under it where the block had no header yet.
        if nxt < 0:
            fits = False
        elif pos == 0:
            fits = _fits(text, table.cells[nxt], len(cells))
        else:
            same = len(table.cells[nxt]) == len(cells)
            fits = same and (r in ruled if header is None else len(cells) != len(header))
        if fits:
            candidate = _header(text, cells)
            if candidate is not None:
                header = candidate
                continue
        if pos == 0:
            continue  # the first row is data: no header for this block (until a label row with a rule under it)
        if header is None:
            continue
        if _fits(text, cells, len(header)):
            table.labels[r] = header


def _fits(text: str, cells: list[tuple[int, int]], width: int) -> bool:
    """A record fits a header of ``width`` cells: no more cells, or only empty ones past it (a trailing
    delimiter). A record with more cells that hold something had a delimiter in a value, and its cells moved."""
    return len(cells) <= width or not any(text[lo:hi].strip(" \t\r") for lo, hi in cells[width:])


class Tables:
    """The tables of one text, parsed per delimiter on first need. See the module docstring."""

    __slots__ = ("_parsed", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._parsed: dict[str, _Table] = {}

    def label(self, start: int, end: int) -> str:
        """The header label of the column whose cell holds ``text[start:end]``; ``""`` when it is not in a
        labelled table's cell."""
        text = self._text
        line_start = -2  # not yet computed (-1: the value's line cannot be a labelled row)
        line_end = above = 0
        for delimiter in DELIMITERS:
            table = self._parsed.get(delimiter)
            if table is None:
                if line_start == -2:
                    line_start, line_end, above = _row_lines(text, start, end)
                if line_start < 0:
                    return ""
                # A labelled row has a row, a rule or the end of a quoted cell on the line above it: when there
                # is none, the text is not parsed (prose with a comma on a value's line costs nothing).
                if text.find(delimiter, line_start, line_end) < 0 or (
                    text.find(delimiter, above, line_start) < 0
                    and text.find('"', above, line_start) < 0
                    and not _is_rule(text, above, line_start - 1)
                ):
                    continue
                table = _parse(text, delimiter)
                self._parsed[delimiter] = table
            label = table.label(start, end)
            if label:
                return label
        return ""


def _row_lines(text: str, start: int, end: int) -> tuple[int, int, int]:
    """Where the line of ``text[start:end]`` starts and ends and where the line above it starts; ``(-1, -1,
    -1)`` when it is the first line or too long to be a row."""
    line_start = text.rfind("\n", max(0, start - _MAX_LINE), start) + 1
    if line_start == 0:
        return -1, -1, -1
    line_end = text.find("\n", end, end + _MAX_LINE)
    if line_end < 0:
        if len(text) - end > _MAX_LINE:
            return -1, -1, -1
        line_end = len(text)
    above = text.rfind("\n", max(0, line_start - 1 - _MAX_LINE), line_start - 1) + 1
    return line_start, line_end, above
