"""Writing one labelled text: the labels are the offsets at which values were written, never a re-scan.

A template writes a text piece by piece into a ``DocBuilder``: plain text, a labelled value (``Piece`` with a
``type``) or a hard negative (``Piece`` with a ``negative`` kind). ``fill`` writes a small template string whose
``«slot»`` fields are looked up in a table of slot functions (``bench.heldout.slots``) or passed in by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SLOT = re.compile(r"«(\w+)»")


@dataclass(frozen=True, slots=True)
class Piece:
    """A piece of text; labelled as an entity of ``type``, or as a hard negative of kind ``negative``, or neither."""

    text: str
    type: str = ""
    negative: str = ""

    def __post_init__(self) -> None:
        if self.type and self.negative:
            raise ValueError("a piece is an entity or a hard negative, not both")


@dataclass
class DocBuilder:
    """Accumulates a text and the spans of what was written into it."""

    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)
    negatives: list[dict[str, Any]] = field(default_factory=list)

    def text(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def put(self, piece: Piece | str) -> None:
        """Write a piece, labelling its whole span when it carries a label (empty labelled pieces are refused)."""
        if isinstance(piece, str):
            self.text(piece)
            return
        start = self.length
        self.text(piece.text)
        if (piece.type or piece.negative) and not piece.text:
            raise ValueError("a labelled piece cannot be empty")
        if piece.type:
            self.entities.append({"start": start, "end": self.length, "type": piece.type})
        elif piece.negative:
            self.negatives.append({"start": start, "end": self.length, "kind": piece.negative})

    def ent(self, text: str, type_: str) -> None:
        self.put(Piece(text, type=type_))

    def neg(self, text: str, kind: str) -> None:
        self.put(Piece(text, negative=kind))

    def record(self, kind: str) -> dict[str, Any]:
        """The finished record, in the format ``bench.detection`` scores."""
        return {"kind": kind, "text": "".join(self.parts), "entities": self.entities, "negatives": self.negatives}


SlotTable = Mapping[str, Callable[[Any], Piece | str]]


def fill(d: DocBuilder, slots: SlotTable, ctx: Any, template: str, **given: Piece | str) -> None:
    """Write ``template``, replacing each ``«name»`` by ``given[name]`` if given, else by ``slots[name](ctx)``."""
    pos = 0
    for match in SLOT.finditer(template):
        d.text(template[pos : match.start()])
        name = match.group(1)
        d.put(given[name] if name in given else slots[name](ctx))
        pos = match.end()
    d.text(template[pos:])
