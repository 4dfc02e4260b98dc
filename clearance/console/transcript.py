"""A record as the console's transcript shows it: who said what in the forwarded request, and the answer, each cut
into pieces, a finding's piece marked with its entity type.

The record's text is already redacted (``docs/audit.md``, "Record modes"); the findings' recorded positions index
each leaf of the request *as forwarded* (``docs/audit.md``, "Finding positions"). Where a value was let through,
the kept text holds its redaction marker (``[TYPE]``) instead, so a position is read against the kept text with the
shift of every earlier such value in the same leaf: a marker at the shifted start is the finding; otherwise the span
(a masked value's replacement) is, moved by that shift. Positions are capped per record and the answer has none, so
any marker or placeholder (``<TYPE_1>``) of a type the record found that no position covered is marked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from clearance.admin.record_resources import PositionResource, RecordResource
from clearance.payload.readable import answer_text, parsed_text, text_leaves

_MARKER: Final = re.compile(r"\[([A-Z][A-Z0-9_]*)\]|<([A-Z][A-Z0-9_]*)_[0-9]+>")
"""A redaction marker (``[EMAIL_ADDRESS]``) or a placeholder (``<EMAIL_ADDRESS_1>``), with its type."""
_SKIPPED: Final = frozenset({("model",), ("stream",)})
Path = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Piece:
    """A run of text; ``type`` is the entity type of a finding (None: plain text)."""

    text: str
    type: str | None = None


@dataclass(frozen=True, slots=True)
class Turn:
    """Who said it (a chat role, or a field's path) and what, in pieces."""

    who: str
    pieces: tuple[Piece, ...]


def _plain(text: str, types: frozenset[str]) -> list[Piece]:
    """``text`` with each marker of a known type marked."""
    pieces: list[Piece] = []
    at = 0
    for match in _MARKER.finditer(text):
        kind = match.group(1) or match.group(2)
        if kind not in types:
            continue
        if match.start() > at:
            pieces.append(Piece(text[at : match.start()]))
        pieces.append(Piece(match.group(0), kind))
        at = match.end()
    if at < len(text) or not pieces:
        pieces.append(Piece(text[at:]))
    return pieces


def marked(text: str, spans: Sequence[PositionResource], types: frozenset[str]) -> tuple[Piece, ...]:
    """A leaf's kept text cut into pieces at its findings' positions (see the module docstring)."""
    pieces: list[Piece] = []
    at = 0
    shift = 0
    for span in sorted(spans, key=lambda s: s.start):
        start = span.start + shift
        marker = f"[{span.type}]"
        if text.startswith(marker, start):
            end = start + len(marker)
            shift += len(marker) - (span.end - span.start)
        else:
            end = span.end + shift
        if start < at or end > len(text) or end <= start:
            continue  # a position this text cannot hold (cut at audit.max_text_bytes): its marker still shows
        pieces += _plain(text[at:start], types) if start > at else []
        pieces.append(Piece(text[start:end], span.type))
        at = end
    if at < len(text) or not pieces:
        pieces += _plain(text[at:], types)
    return tuple(pieces)


def _paths(document: Any) -> Iterable[tuple[str, Path, str]]:
    """``(who, path, text)`` per text a person reads: each chat message's content (or its text parts), else each
    text field but the model's name."""
    messages = document.get("messages") if isinstance(document, dict) else None
    if isinstance(messages, list):
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue
            who = str(message.get("role", "?"))
            for path, text in text_leaves(message.get("content"), ("messages", index, "content")):
                if len(path) == 3 or path[-1] == "text":
                    yield who, path, text
        return
    for path, text in text_leaves(document):
        if path not in _SKIPPED:
            yield ".".join(map(str, path)), path, text


def request_turns(record: RecordResource) -> tuple[Turn, ...] | None:
    """The forwarded request as turns, its findings marked; None when the record kept no text."""
    document = parsed_text(record.request_text)
    if document is None:
        return None
    types = _types(record)
    if isinstance(document, str):  # cut at audit.max_text_bytes: not JSON any more
        return (Turn("(cut)", tuple(_plain(document, types))),)
    at: dict[Path, list[PositionResource]] = {}
    for position in record.positions:
        at.setdefault(tuple(position.path), []).append(position)
    return tuple(Turn(who, marked(text, at.get(path, ()), types)) for who, path, text in _paths(document))


def answer_pieces(record: RecordResource) -> tuple[Piece, ...] | None:
    """The answer's text, each marker of a type the record found marked; None when the record kept none."""
    document = parsed_text(record.response_text)
    if document is None:
        return None
    text = document if isinstance(document, str) else answer_text(document)
    return tuple(_plain(text, _types(record)))


def _types(record: RecordResource) -> frozenset[str]:
    return frozenset(record.findings) | {p.type for p in record.positions} | frozenset(record.masked_response)


def type_classes(types: Iterable[str]) -> Mapping[str, int]:
    """A colour slot (0..5) per entity type, the same for the same set of types: the CSS class ``type-N``."""
    return {kind: i % 6 for i, kind in enumerate(sorted(set(types)))}
