"""Stream shapes: how items from an upstream stream become bytes for the client.

The relay loop (``pipeline.py``) parses the upstream framing and hands each complete item to a ``StreamShape``;
the shape returns the bytes to send for it at once (no buffering beyond the item itself). Every event goes through
an event masker (``clearance.mask.events``): there is no unmasked path. What an SSE frame carries besides its data
is text too: comment lines and ``id:``/``retry:`` fields are dropped (``framing.SseParser``), an event without data
is dropped, and an event's name is rebuilt from its masked ``type`` when that is a plain dotted name.

``[DONE]`` ends a stream for the caller, not for the masker: what a channel still holds goes out at the real end of
the upstream's stream, before the ``[DONE]``, so a value straddling it (a careless or hostile upstream sends more
after it) is still held whole.

Each shape hands every event it parsed, as the upstream sent it, to the exchange's ``Transcript`` when the record
keeps the answer's text (``clearance.proxy.transcript``).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import orjson

from clearance.exceptions import ClearanceError, UpstreamProtocolError
from clearance.models import Usage
from clearance.proxy.exchange import ollama_usage, usage_of
from clearance.proxy.framing import SSE_DONE, SseEvent, sse_data
from clearance.proxy.ollama import OllamaStreamTranslator
from clearance.proxy.transcript import Transcript


class EventMasker(Protocol):
    def event(self, event: dict[str, Any]) -> list[dict[str, Any]]: ...
    def end(self) -> list[dict[str, Any]]: ...


class StreamShape(Protocol):
    content_type: str
    usage: Usage | None
    """The token counts the upstream reported in the stream so far (for the audit record)."""

    def item(self, event: SseEvent) -> bytes: ...
    def end(self) -> bytes: ...
    def error(self, error: ClearanceError) -> bytes: ...


_EVENT_NAME = re.compile(r"[a-z_]+(?:\.[a-z_]+)*")
"""An SSE event name sent as it is: lower-case dotted words (every Responses event type); others become "message"."""


def event_name(event: dict[str, Any]) -> str:
    """The ``event:`` name for a masked event: its ``type`` when that is a plain dotted name, else "message"."""
    kind = event.get("type")
    return kind if isinstance(kind, str) and len(kind) <= 100 and _EVENT_NAME.fullmatch(kind) else "message"


def _error_object(error: ClearanceError) -> dict[str, object]:
    return {"error": {"message": error.message, "type": error.type, "code": error.code}}


def _loads(data: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamProtocolError("the upstream sent a stream event that is not JSON") from None
    if not isinstance(value, dict):
        raise UpstreamProtocolError("the upstream sent a stream event that is not a JSON object")
    return value


class OpenAiSse:
    """OpenAI SSE to OpenAI SSE. Picks the usage out of the final chunk for the audit record."""

    content_type = "text/event-stream"

    def __init__(self, masker: EventMasker, transcript: Transcript | None = None, *, hide_usage: bool = False) -> None:
        """``hide_usage``: the gateway asked for the usage, not the caller: it is read, and kept from the caller
        (its own chunk dropped, the ``usage`` key taken off the others)."""
        self.usage: Usage | None = None
        self._masker = masker
        self._transcript = transcript
        self._hide_usage = hide_usage
        self._named = False
        """Whether the upstream names its events (``event:`` lines, as the Responses API does)."""
        self._done = False
        """Whether the upstream sent ``[DONE]``: it goes out at the end, after what the masker still holds."""

    def item(self, event: SseEvent) -> bytes:
        data = event.data
        self._named = self._named or event.event is not None
        if data is None:
            return b""  # a name without data carries nothing for the caller, and its name is text
        if data == SSE_DONE:
            self._done = True
            return b""
        parsed = _loads(data)
        if self._transcript is not None:
            self._transcript.add(parsed)
        if "usage" in parsed:
            self.usage = usage_of(parsed["usage"]) or self.usage  # a later chunk without usage keeps it
            if self._hide_usage:
                del parsed["usage"]
                if parsed.get("choices") == []:  # the usage's own chunk, which the caller did not ask for
                    return b""
        elif isinstance(response := parsed.get("response"), dict) and "usage" in response:
            # the Responses API: in its last event (response.completed, .incomplete, .failed), under "response"
            self.usage = usage_of(response["usage"]) or self.usage
        return self._encode(self._masker.event(parsed), event.event is not None)

    @staticmethod
    def _encode(events: list[dict[str, Any]], named: bool) -> bytes:
        if not named:
            if len(events) == 1:  # nearly every event
                return sse_data(orjson.dumps(events[0]))
            return b"".join(sse_data(orjson.dumps(e)) for e in events)
        return b"".join(SseEvent(orjson.dumps(e), event_name(e)).encode() for e in events)

    def end(self) -> bytes:
        rest = self._encode(self._masker.end(), self._named)
        return rest + sse_data(SSE_DONE) if self._done else rest

    def error(self, error: ClearanceError) -> bytes:
        return sse_data(orjson.dumps(_error_object(error)))


class OllamaFromOpenAi:
    """OpenAI SSE from the upstream to Ollama NDJSON for the client (masked before it is translated)."""

    content_type = "application/x-ndjson"

    def __init__(
        self, translator: OllamaStreamTranslator, masker: EventMasker, transcript: Transcript | None = None
    ) -> None:
        self.usage: Usage | None = None
        self._translator = translator
        self._masker = masker
        self._transcript = transcript
        self._done = False
        """Whether the stream was ended (by an error; ``[DONE]`` only ends it at the real end, as for OpenAiSse)."""

    def _lines(self, chunks: list[dict[str, Any]]) -> bytes:
        out = b""
        for chunk in chunks:
            line = self._translator.chunk(chunk)
            if line is not None:
                out += orjson.dumps(line) + b"\n"
        return out

    def item(self, event: SseEvent) -> bytes:
        if event.data is None or event.data == SSE_DONE or self._done:
            return b""
        chunk = _loads(event.data)
        if "error" in chunk:
            raise UpstreamProtocolError("the upstream reported an error mid-stream")
        if self._transcript is not None:
            self._transcript.add(chunk)
        if chunk.get("usage"):
            self.usage = usage_of(chunk["usage"]) or self.usage
        return self._lines(self._masker.event(chunk))

    def end(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        rest = self._lines(self._masker.end())
        return rest + orjson.dumps(self._translator.done()) + b"\n"

    def error(self, error: ClearanceError) -> bytes:
        self._done = True
        return orjson.dumps({"error": error.message, "code": error.code}) + b"\n"


class OllamaNdjson:
    """Ollama NDJSON passed through line by line (items arrive as ``SseEvent(data=line)``)."""

    content_type = "application/x-ndjson"

    def __init__(self, masker: EventMasker, transcript: Transcript | None = None) -> None:
        self.usage: Usage | None = None
        self._masker = masker
        self._transcript = transcript

    def _usage(self, final: dict[str, Any]) -> None:
        self.usage = ollama_usage(final) or self.usage

    def item(self, event: SseEvent) -> bytes:
        parsed = _loads(event.data or b"")
        if self._transcript is not None:
            self._transcript.add(parsed)
        if parsed.get("done"):
            self._usage(parsed)
        return b"".join(orjson.dumps(x) + b"\n" for x in self._masker.event(parsed))

    def end(self) -> bytes:
        return b"".join(orjson.dumps(x) + b"\n" for x in self._masker.end())

    def error(self, error: ClearanceError) -> bytes:
        return orjson.dumps({"error": error.message, "code": error.code}) + b"\n"
