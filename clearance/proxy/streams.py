"""Stream shapes: how items from an upstream stream become bytes for the client.

The relay loop (``relay.py``) parses the upstream framing and hands each complete item to a ``StreamShape``;
the shape returns the bytes to send for it at once (no buffering beyond the item itself).
"""

from __future__ import annotations

from typing import Protocol

import orjson

from clearance.exceptions import ClearanceError, UpstreamProtocolError
from clearance.proxy.exchange import Exchange
from clearance.proxy.framing import SSE_DONE, SseEvent, sse_data
from clearance.proxy.ollama import OllamaStreamTranslator


class StreamShape(Protocol):
    content_type: str

    def item(self, event: SseEvent) -> bytes: ...
    def end(self) -> bytes: ...
    def error(self, error: ClearanceError) -> bytes: ...


def _error_object(error: ClearanceError) -> dict[str, object]:
    return {"error": {"message": error.message, "type": error.type, "code": error.code}}


def _loads(data: bytes) -> dict[str, object]:
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

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def item(self, event: SseEvent) -> bytes:
        data = event.data
        if data is not None and data != SSE_DONE and b'"usage":{' in data.replace(b" ", b""):
            self._exchange.set_usage(_loads(data).get("usage"))
        if event.event is None and data is not None:
            return sse_data(data)
        return event.encode()

    def end(self) -> bytes:
        return b""

    def error(self, error: ClearanceError) -> bytes:
        return sse_data(orjson.dumps(_error_object(error)))


class OllamaFromOpenAi:
    """OpenAI SSE from the upstream to Ollama NDJSON for the client."""

    content_type = "application/x-ndjson"

    def __init__(self, exchange: Exchange, translator: OllamaStreamTranslator) -> None:
        self._exchange = exchange
        self._translator = translator
        self._done = False

    def item(self, event: SseEvent) -> bytes:
        if event.data is None or self._done:
            return b""
        if event.data == SSE_DONE:
            return self.end()
        chunk = _loads(event.data)
        if "error" in chunk:
            raise UpstreamProtocolError("the upstream reported an error mid-stream")
        if chunk.get("usage"):
            self._exchange.set_usage(chunk["usage"])
        out = self._translator.chunk(chunk)
        return orjson.dumps(out) + b"\n" if out is not None else b""

    def end(self) -> bytes:
        if self._done:
            return b""
        self._done = True
        return orjson.dumps(self._translator.done()) + b"\n"

    def error(self, error: ClearanceError) -> bytes:
        self._done = True
        return orjson.dumps({"error": error.message, "code": error.code}) + b"\n"


class OllamaNdjson:
    """Ollama NDJSON passed through line by line (items arrive as ``SseEvent(data=line)``)."""

    content_type = "application/x-ndjson"

    def __init__(self, exchange: Exchange) -> None:
        self._exchange = exchange

    def item(self, event: SseEvent) -> bytes:
        line = event.data or b""
        if b'"done":true' in line.replace(b" ", b""):
            final = _loads(line)
            prompt, completion = final.get("prompt_eval_count"), final.get("eval_count")
            if isinstance(prompt, int) and isinstance(completion, int):
                self._exchange.set_usage(
                    {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    }
                )
        return line + b"\n"

    def end(self) -> bytes:
        return b""

    def error(self, error: ClearanceError) -> bytes:
        return orjson.dumps({"error": error.message, "code": error.code}) + b"\n"
