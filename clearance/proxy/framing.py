"""Incremental parsers for the two streaming framings: Server-Sent Events and newline-delimited JSON.

Upstream chunk boundaries mean nothing: an event can arrive split across any number of reads, or several events
in one. Each parser is fed bytes as they come and hands back only complete events, keeping the incomplete tail.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from clearance.exceptions import UpstreamProtocolError

SSE_DONE = b"[DONE]"


class SseEvent(NamedTuple):
    """One event. ``data`` joins the event's ``data:`` lines with newlines (None if it had none).

    A named tuple rather than a frozen dataclass: one is built for every event of every stream, and a frozen
    dataclass's ``__init__`` costs several times a tuple's."""

    data: bytes | None
    event: str | None = None

    def encode(self) -> bytes:
        out = b""
        if self.event is not None:
            out += b"event: " + self.event.encode() + b"\n"
        if self.data is not None:
            for line in self.data.split(b"\n"):
                out += b"data: " + line + b"\n"
        return out + b"\n"


class ItemParser(Protocol):
    def feed(self, chunk: bytes) -> list[SseEvent]: ...
    def close(self) -> list[SseEvent]: ...


def sse_data(data: bytes) -> bytes:
    """Frame one ``data:`` event (``data`` must not contain newlines: compact JSON never does)."""
    return b"data: " + data + b"\n\n"


class SseParser:
    """Feed bytes, get complete events. Accepts LF, CRLF and CR line endings."""

    __slots__ = ("_buffer", "_pending_cr")

    def __init__(self) -> None:
        self._buffer = b""
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[SseEvent]:
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                # could be the first half of a CRLF split across reads
                chunk = chunk[:-1]
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + chunk
        if b"\n\n" not in buffer:
            self._buffer = _bounded(buffer)
            return []
        *blocks, self._buffer = buffer.split(b"\n\n")
        _bounded(self._buffer)
        events = []
        for block in blocks:
            event = _parse_block(block)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[SseEvent]:
        """The stream ended: a final event without its blank line still counts."""
        tail, self._buffer = self._buffer, b""
        if self._pending_cr:
            self._pending_cr = False
        if not tail.strip():
            return []
        event = _parse_block(tail.rstrip(b"\n"))
        return [event] if event is not None else []


MAX_EVENT_BYTES = 8 * 1024 * 1024
"""The largest stream event (or NDJSON line) read: an upstream that never ends one is cut off, not buffered."""


def _bounded(buffer: bytes) -> bytes:
    if len(buffer) > MAX_EVENT_BYTES:
        raise UpstreamProtocolError(
            f"the upstream sent a stream event larger than {MAX_EVENT_BYTES} bytes; the stream was ended"
        )
    return buffer


def _parse_block(block: bytes) -> SseEvent | None:
    if block.startswith(b"data: ") and b"\n" not in block:
        return SseEvent(block[6:])  # the common case, one line
    data: list[bytes] = []
    event: str | None = None
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue
        name, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if name == b"data":
            data.append(value)
        elif name == b"event":
            event = value.decode("utf-8", "replace")
    if not data and event is None:
        return None
    return SseEvent(b"\n".join(data) if data else None, event)


class NdjsonParser:
    """Feed bytes, get complete lines as events carrying only ``data`` (without the newline).

    Sharing the event type with ``SseParser`` lets the relay treat both framings alike. Blank lines are skipped.
    """

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[SseEvent]:
        buffer = self._buffer + chunk
        if b"\n" not in buffer:
            self._buffer = _bounded(buffer)
            return []
        *lines, self._buffer = buffer.split(b"\n")
        _bounded(self._buffer)
        return [SseEvent(line) for line in (ln.strip() for ln in lines) if line]

    def close(self) -> list[SseEvent]:
        tail, self._buffer = self._buffer.strip(), b""
        return [SseEvent(tail)] if tail else []
