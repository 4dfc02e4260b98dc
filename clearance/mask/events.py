"""Masking streamed answers event by event, for each API's event shapes.

Each class takes parsed events (JSON objects) of one stream and returns the events to send instead, in order. Text
that might be the start of a sensitive value is held back in a per-channel ``StreamMasker`` (one channel per choice,
per tool call, per output item) and released into a later event of the same channel; whatever is still held when
the channel ends is released into its final event. Every other string in an event is masked whole. ``logprobs``
are dropped: they spell the answer token by token, where no value can be recognised.
"""

from __future__ import annotations

import re
from typing import Any

from clearance.extract import is_structural, rewrite_texts
from clearance.mask.masker import Masker
from clearance.mask.stream import StreamMasker

Event = dict[str, Any]
DROP = frozenset({"logprobs"})
_ALNUM = re.compile(r"[^\W_]")
_DIGIT = re.compile(r"\d")
_WORD = re.compile(r"\s*[^\W\d_]+")
_CONTENT_CHOICE = frozenset({"index", "delta", "finish_reason", "logprobs"})
_CONTENT_DELTA = frozenset({"content", "role"})


class _Channels:
    def __init__(self, masker: Masker) -> None:
        self._masker = masker
        self._open: dict[tuple[Any, ...], StreamMasker] = {}

    def feed(self, key: tuple[Any, ...], text: str) -> str:
        channel = self._open.get(key)
        if channel is None:
            channel = self._open[key] = StreamMasker(self._transform, hold_words=self._masker.hold_words)
        return channel.feed(text)

    def flush(self, key: tuple[Any, ...]) -> str:
        channel = self._open.pop(key, None)
        return channel.flush() if channel is not None else ""

    def flush_prefix(self, prefix: tuple[Any, ...]) -> dict[tuple[Any, ...], str]:
        keys = [k for k in self._open if k[: len(prefix)] == prefix]
        return {k: self.flush(k) for k in keys}

    def pending(self) -> list[tuple[Any, ...]]:
        return list(self._open)

    def _transform(self, context: str, segment: str) -> str:
        if not self._masker.plan.restore and not _ALNUM.search(segment):
            return segment  # spaces and punctuation: nothing a detector could report lies in them
        if not self._masker.hold_words and (not context or context[-1].isspace()) and _WORD.fullmatch(segment):
            # the first piece of a word, released early (``StreamMasker``): no masked type's value is a bare word
            return segment
        if context and context[-1].isspace() and not _DIGIT.search(segment):
            # The words before a segment matter when it continues a value begun before it (the context then ends
            # inside a token) or when it holds a number that a label before it qualifies ("account no. 1234…").
            # Otherwise rescanning them would only find again what was found when they were released.
            context = ""
        return self._masker.outgoing(segment, context)

    def whole(self, node: Any) -> Any:
        if isinstance(node, dict) and not _has_text(node):
            return node
        return rewrite_texts(node, self._masker.outgoing, DROP)


def _has_text(node: dict[str, Any], skip: str = "") -> bool:
    """Whether a stream event's own fields (but ``skip``: its choices) hold anything to mask or drop: most hold
    only ids, names and numbers, and walking them for nothing is most of an event's cost."""
    for key, value in node.items():
        if key == skip:
            continue
        if key in DROP and value is not None:
            return True
        if isinstance(value, str):
            if not is_structural(key, value):
                return True
        elif isinstance(value, dict | list):
            return True
    return False


class OpenAiChunkMasker:
    """``chat.completion.chunk`` and ``text_completion`` stream chunks."""

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)
        self._meta: dict[str, Any] = {}

    def event(self, chunk: Event) -> list[Event]:
        self._meta = {k: chunk[k] for k in ("id", "object", "created", "model") if k in chunk}
        choices = chunk.get("choices")
        if type(choices) is list and len(choices) == 1:
            content_only = self._content_only(chunk, choices[0])
            if content_only is not None:
                return [content_only]
        if not isinstance(choices, list):
            return [self._ch.whole(chunk)]
        out_choices = []
        for choice in choices:
            index = choice.get("index", 0)
            out = self._ch.whole({k: v for k, v in choice.items() if k not in ("delta", "text")})
            if isinstance(choice.get("delta"), dict):
                out["delta"] = self._delta(index, choice["delta"])
            elif isinstance(choice.get("text"), str):
                out["text"] = self._ch.feed((index, "text"), choice["text"])
            if choice.get("finish_reason") is not None:
                self._finish(index, out)
            out_choices.append(out)
        return [{**self._ch.whole({k: v for k, v in chunk.items() if k != "choices"}), "choices": out_choices}]

    def _content_only(self, chunk: Event, choice: Any) -> Event | None:
        """Most chunks of a stream: one choice whose delta holds only its next piece of ``content`` (and maybe its
        ``role``), no finish, no logprobs, and nothing to mask among the chunk's own fields. The piece goes
        through its channel as on the general path; only the walk over the rest, which would find nothing, is
        skipped. None when the chunk is not of that shape (the general path takes it)."""
        if type(choice) is not dict or not _CONTENT_CHOICE.issuperset(choice):
            return None
        delta = choice.get("delta")
        if (
            type(delta) is not dict
            or not _CONTENT_DELTA.issuperset(delta)
            or type(delta.get("content")) is not str
            or type(delta.get("role", "")) is not str
            or choice.get("finish_reason") is not None
            or choice.get("logprobs") is not None
            or _has_text(chunk, skip="choices")
        ):
            return None
        content: str = delta["content"]
        released = self._ch.feed((choice.get("index", 0), "content"), content)
        if released == content:
            return chunk
        return {**chunk, "choices": [{**choice, "delta": {**delta, "content": released}}]}

    def _delta(self, index: int, delta: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in delta.items():
            if key in ("content", "reasoning_content", "refusal") and isinstance(value, str):
                out[key] = self._ch.feed((index, key), value)
            elif key == "tool_calls" and isinstance(value, list):
                out[key] = [self._tool_call(index, call) for call in value]
            elif is_structural(key, value):
                out[key] = value  # structure, as in a whole answer (extract.is_structural)
            else:
                out[key] = self._ch.whole(value)
        return out

    def _tool_call(self, index: int, call: dict[str, Any]) -> dict[str, Any]:
        out = dict(call)
        fn = call.get("function")
        if isinstance(fn, dict):
            fn_out = dict(fn)
            if isinstance(fn.get("arguments"), str):
                fn_out["arguments"] = self._ch.feed((index, "tool", call.get("index", 0)), fn["arguments"])
            out["function"] = fn_out
        return out

    def _finish(self, index: int, choice: dict[str, Any]) -> None:
        """The choice ends: whatever its channels still hold goes into this last chunk."""
        for key, text in self._ch.flush_prefix((index,)).items():
            if not text:
                continue
            if key[1] == "text":
                choice["text"] = choice.get("text", "") + text
                continue
            delta = choice.setdefault("delta", {})
            if key[1] == "tool":
                delta.setdefault("tool_calls", []).append({"index": key[2], "function": {"arguments": text}})
            else:
                delta[key[1]] = delta.get(key[1], "") + text

    def end(self) -> list[Event]:
        """The stream ended without a finish_reason for some choice: release what is held in one more chunk."""
        held = self._ch.pending()
        if not held:
            return []
        choices: dict[int, dict[str, Any]] = {}
        for key in held:
            choice = choices.setdefault(key[0], {"index": key[0], "delta": {}})
            self._finish(key[0], choice)
        return [{**self._meta, "choices": list(choices.values())}]


class ResponsesEventMasker:
    """``/v1/responses`` stream events (``response.output_text.delta`` and friends)."""

    _DELTAS = {
        "response.output_text.delta": "text",
        "response.function_call_arguments.delta": "args",
        "response.reasoning_text.delta": "reasoning",
    }
    _DONES = {
        "response.output_text.done": ("text", "text", "response.output_text.delta"),
        "response.function_call_arguments.done": ("args", "arguments", "response.function_call_arguments.delta"),
        "response.reasoning_text.done": ("reasoning", "text", "response.reasoning_text.delta"),
    }

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)

    @staticmethod
    def _key(kind: str, event: Event) -> tuple[Any, ...]:
        return (event.get("item_id"), event.get("output_index"), event.get("content_index"), kind)

    def event(self, event: Event) -> list[Event]:
        kind = event.get("type")
        if kind in self._DELTAS and isinstance(event.get("delta"), str):
            return [{**event, "delta": self._ch.feed(self._key(self._DELTAS[kind], event), event["delta"])}]
        if kind in self._DONES:
            channel, _field, delta_type = self._DONES[kind]
            out = self._released(self._key(channel, event), delta_type)
        else:
            # any other event (an item or part done, the response completed) closes whatever is still open
            out = self.end()
        out.append(self._ch.whole(event))
        return out

    def _released(self, key: tuple[Any, ...], delta_type: str) -> list[Event]:
        rest = self._ch.flush(key)
        if not rest:
            return []
        item_id, output_index, content_index, _kind = key
        event: Event = {"type": delta_type, "item_id": item_id, "output_index": output_index}
        if content_index is not None:
            event["content_index"] = content_index
        return [{**event, "delta": rest}]

    def end(self) -> list[Event]:
        types = {v: k for k, v in self._DELTAS.items()}
        out: list[Event] = []
        for key in self._ch.pending():
            out += self._released(key, types[key[3]])
        return out


class OllamaLineMasker:
    """Ollama NDJSON objects: ``message.content`` (chat) or ``response`` (generate), flushed into the done line."""

    def __init__(self, masker: Masker) -> None:
        self._ch = _Channels(masker)

    def event(self, line: Event) -> list[Event]:
        out = dict(line)
        message = line.get("message")
        if isinstance(message, dict):
            message_out = dict(message)
            if isinstance(message.get("content"), str):
                message_out["content"] = self._ch.feed(("content",), message["content"])
            if "tool_calls" in message:
                message_out["tool_calls"] = self._ch.whole(message["tool_calls"])
            out["message"] = message_out
        if isinstance(line.get("response"), str):
            out["response"] = self._ch.feed(("response",), line["response"])
        if line.get("done"):
            for key, text in self._ch.flush_prefix(()).items():
                if key == ("content",) and isinstance(out.get("message"), dict):
                    out["message"]["content"] = out["message"].get("content", "") + text
                elif key == ("response",):
                    out["response"] = out.get("response", "") + text
        rest = {k: v for k, v in out.items() if k not in ("message", "response")}
        return [{**self._ch.whole(rest), **{k: out[k] for k in ("message", "response") if k in out}}]

    def end(self) -> list[Event]:
        return []
