"""What a person reads of a recorded exchange's JSON (``clearance audit show``, the console's transcript): who said
what in a request, the model's text in an answer, and every text leaf with its JSON path (the path a finding's
recorded position names, ``clearance.payload.extract``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson


def text_leaves(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string in a JSON document with its path (keys and list indexes from the root), in document order."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from text_leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from text_leaves(item, (*path, index))


def message_text(content: Any) -> str:
    """A chat message's text: its content string, or the text parts of a content list, one per line."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def request_lines(document: Any) -> list[tuple[str, str]]:
    """Who said what in a request: ``(role, text)`` per chat message, else ``(path, text)`` per text field."""
    if isinstance(document, dict) and isinstance(document.get("messages"), list):
        messages = [m for m in document["messages"] if isinstance(m, dict)]
        return [(str(m.get("role", "?")), message_text(m.get("content"))) for m in messages]
    skip = {("model",), ("stream",)}
    return [(".".join(map(str, path)), text) for path, text in text_leaves(document) if path not in skip]


def answer_text(document: Any) -> str:
    """What a person reads of an answer: the model's text (chat, completion, Responses, Ollama, or a stream as the
    record assembles it: ``clearance.proxy.transcript``), else the whole answer as indented JSON (embeddings,
    errors)."""
    parts: list[str] = []
    if isinstance(document, dict):
        for choice in document.get("choices") or ():
            if isinstance(choice, dict):
                message = choice.get("message")
                text = message.get("content") if isinstance(message, dict) else choice.get("text")
                if isinstance(text, str):
                    parts.append(text)
        for item in document.get("output") or ():
            for content in (item.get("content") or ()) if isinstance(item, dict) else ():
                if isinstance(content, dict) and isinstance(content.get("text"), str):
                    parts.append(content["text"])
        message = document.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            parts.append(message["content"])
        for key in ("response", "content"):  # Ollama's generate; a recorded stream, assembled
            if isinstance(document.get(key), str):
                parts.append(document[key])
    if parts:
        return "\n".join(parts)
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()


def parsed_text(text: str | None) -> Any:
    """A record's kept text as JSON; as it is where it is not JSON (cut at ``audit.max_text_bytes``); None: none."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text  # cut at audit.max_text_bytes: shown as it is
