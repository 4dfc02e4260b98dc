"""A streamed answer assembled from its events, for the audit record.

The stream shapes (``clearance.proxy.streams``) hand each event the upstream sent, as parsed and before any
masking or restoration, to a ``Transcript``, which keeps only what a reader of the answer reads: the text, and the
tool calls' names and arguments. OpenAI chat and completion chunks (``choices[].delta.content``,
``choices[].text``, ``choices[].delta.tool_calls``), Responses events (``response.output_text.delta``,
``response.function_call_arguments.delta``) and Ollama lines (``message.content``, ``message.tool_calls``,
``response``) are read; anything else is left out. Choices are joined in the order their pieces arrived.

It holds raw text until the exchange ends: the record redacts it then (``Inspector.redact_document``), whole,
so a value split across events is found as the caller's client would join it. It stops growing past ``limit``
characters, and says so (``truncated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(slots=True)
class _ToolCall:
    name: str | None = None
    arguments: list[str] = field(default_factory=list)


class Transcript:
    """The text and tool calls of one streamed answer, at most ``limit`` characters in all."""

    __slots__ = ("_content", "_size", "_tools", "limit", "truncated")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.truncated = False
        self._content: list[str] = []
        self._tools: dict[tuple[int, int], _ToolCall] = {}
        self._size = 0

    def add(self, event: dict[str, Any]) -> None:
        """Keep what ``event`` (an upstream's, as parsed) adds to the answer."""
        kind = event.get("type")
        if isinstance(kind, str) and kind.startswith("response."):
            self._responses(kind, event)
            return
        choices = event.get("choices")
        if isinstance(choices, list):
            for choice in choices:
                if isinstance(choice, dict):
                    self._choice(choice)
            return
        message = event.get("message")
        if isinstance(message, dict):
            self._text(message.get("content"))
            self._ollama_tools(message.get("tool_calls"))
        self._text(event.get("response"))

    def document(self) -> dict[str, Any]:
        """The answer as one JSON object: ``content`` and, if any, ``tool_calls`` (each ``name`` and
        ``arguments``, a string)."""
        out: dict[str, Any] = {"content": "".join(self._content)}
        if self._tools:
            out["tool_calls"] = [
                {"name": call.name, "arguments": "".join(call.arguments)} for _, call in sorted(self._tools.items())
            ]
        return out

    def _choice(self, choice: dict[str, Any]) -> None:
        self._text(choice.get("text"))
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return
        self._text(delta.get("content"))
        calls = delta.get("tool_calls")
        if not isinstance(calls, list):
            return
        index = choice.get("index")
        for call in calls:
            if not isinstance(call, dict):
                continue
            function = call.get("function")
            if isinstance(function, dict):
                self._tool((_int(index), _int(call.get("index"))), function.get("name"), function.get("arguments"))

    def _responses(self, kind: str, event: dict[str, Any]) -> None:
        if kind == "response.output_text.delta":
            self._text(event.get("delta"))
        elif kind == "response.function_call_arguments.delta":
            self._tool((_int(event.get("output_index")), 0), None, event.get("delta"))
        elif kind == "response.output_item.added":
            item = event.get("item")
            if isinstance(item, dict) and item.get("type") == "function_call":
                self._tool((_int(event.get("output_index")), 0), item.get("name"), None)

    def _ollama_tools(self, calls: object) -> None:
        if not isinstance(calls, list):
            return
        for call in calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                arguments = function.get("arguments")
                text = arguments if isinstance(arguments, str) else orjson.dumps(arguments).decode()
                self._tool((len(self._tools), 0), function.get("name"), text)

    def _tool(self, key: tuple[int, int], name: object, arguments: object) -> None:
        call = self._tools.get(key)
        if call is None:
            if not self._room(0):
                return
            call = self._tools[key] = _ToolCall()
        if isinstance(name, str) and name and call.name is None and self._room(len(name)):
            call.name = name
        if isinstance(arguments, str) and arguments and self._room(len(arguments)):
            call.arguments.append(arguments)

    def _text(self, text: object) -> None:
        if isinstance(text, str) and text and self._room(len(text)):
            self._content.append(text)

    def _room(self, size: int) -> bool:
        """Whether ``size`` more characters fit; once one piece does not, nothing more is kept (a later, shorter
        piece would leave a gap that reads as if it followed)."""
        if self.truncated or self._size + size > self.limit:
            self.truncated = True
            return False
        self._size += size
        return True


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
