"""Translation between Ollama's native API and the OpenAI API, for Ollama-shaped requests to OpenAI upstreams.

An Ollama upstream gets Ollama requests passed through as they are (only the model name is rewritten); an OpenAI
upstream gets them translated here, and its answers translated back:

==================  ==========================================  =============================================
Ollama              OpenAI upstream                             notes
==================  ==========================================  =============================================
``/api/chat``       ``/chat/completions``                       options -> sampling params; NDJSON <- SSE
``/api/generate``   ``/chat/completions`` (``raw``: completions) system + prompt become messages
``/api/embed``      ``/embeddings``                             ``embeddings`` <- ``data[].embedding``
==================  ==========================================  =============================================

An OpenAI answer in a shape the translation cannot read (a choice that is not an object, text that is not a
string, token counts that are not numbers) is an ``UpstreamProtocolError`` (502), never a crash.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson

from clearance.endpoints import (
    OPENAI_CHAT,
    OPENAI_COMPLETIONS,
    OPENAI_EMBEDDINGS,
    Endpoint,
)
from clearance.exceptions import UpstreamProtocolError
from clearance.mask.events import channel_index

# Ollama option -> OpenAI parameter, where the meaning is the same.
_OPTION_MAP = {
    "temperature": "temperature",
    "top_p": "top_p",
    "seed": "seed",
    "num_predict": "max_tokens",
    "stop": "stop",
    "frequency_penalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _sampling(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    options = body.get("options") or {}
    for key, target in _OPTION_MAP.items():
        if key in options:
            out[target] = options[key]
    if body.get("format") == "json":
        out["response_format"] = {"type": "json_object"}
    return out


def _message_to_openai(message: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in message.items() if k not in ("images", "tool_calls")}
    calls = message.get("tool_calls")
    if calls:
        out["tool_calls"] = [
            {
                "id": call.get("id", f"call_{i}"),
                "type": "function",
                "function": {
                    "name": call.get("function", {}).get("name", ""),
                    "arguments": orjson.dumps(call.get("function", {}).get("arguments", {})).decode(),
                },
            }
            for i, call in enumerate(calls)
        ]
    return out


def to_openai_request(
    endpoint: Endpoint, body: dict[str, Any], model: str, stream: bool
) -> tuple[Endpoint, dict[str, Any]]:
    """The OpenAI endpoint and body that do what the Ollama request asks."""
    if endpoint.operation == "embedding":
        return OPENAI_EMBEDDINGS, {"model": model, "input": body["input"]}
    params = _sampling(body)
    if stream:
        params["stream"] = True
        params["stream_options"] = {"include_usage": True}
    if endpoint.operation == "generate" and body.get("raw"):
        return OPENAI_COMPLETIONS, {"model": model, "prompt": body.get("prompt", ""), **params}
    if endpoint.operation == "generate":
        messages = []
        if body.get("system"):
            messages.append({"role": "system", "content": body["system"]})
        messages.append({"role": "user", "content": body.get("prompt", "")})
    else:
        messages = [_message_to_openai(m) for m in body["messages"]]
    request: dict[str, Any] = {"model": model, "messages": messages, **params}
    if body.get("tools"):
        request["tools"] = body["tools"]
    return OPENAI_CHAT, request


def _odd(what: str) -> UpstreamProtocolError:
    return UpstreamProtocolError(
        f"the upstream's answer has an unexpected shape ({what}), so it cannot be translated to the Ollama API"
    )


def _obj(value: Any, what: str) -> dict[str, Any]:
    """``value`` if it is an object, ``{}`` if it is absent (None); anything else is an odd shape."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _odd(f"{what} is not an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _odd(f"{what} is not a list")
    return value


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _odd(f"{what} is not a string")
    return value


def _count(value: Any, what: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool):
        raise _odd(f"{what} is not an integer")
    return value


def _index(value: Any) -> int:
    """A tool call's index: an integer, also written as ``"0"`` or ``0.0``; absent means 0."""
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _odd("a tool call's index is not a number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    raise _odd("a tool call's index is not a number")


def _tool_calls_to_ollama(calls: list[Any]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        fn = _obj(_obj(call, "a tool call").get("function"), "a tool call's function")
        raw_args = fn.get("arguments") or "{}"
        if isinstance(raw_args, str):
            try:
                args = orjson.loads(raw_args)
            except orjson.JSONDecodeError:
                args = {"_raw": raw_args}
        elif isinstance(raw_args, dict):
            args = raw_args
        else:
            raise _odd("a tool call's arguments are neither a string nor an object")
        out.append({"function": {"name": _text(fn.get("name"), "a tool call's name"), "arguments": args}})
    return out


def _usage_fields(usage: dict[str, Any] | None, started: float) -> dict[str, Any]:
    usage = _obj(usage, "usage")
    return {
        "total_duration": int((time.monotonic() - started) * 1e9),
        "prompt_eval_count": _count(usage.get("prompt_tokens"), "usage.prompt_tokens"),
        "eval_count": _count(usage.get("completion_tokens"), "usage.completion_tokens"),
    }


def _text_key(endpoint: Endpoint) -> str:
    return "response" if endpoint.operation == "generate" else "message"


def _piece(endpoint: Endpoint, text: str, tool_calls: list[Any] | None = None) -> Any:
    """The answer's text in the endpoint's shape; OpenAI ``tool_calls`` are read (and checked) either way."""
    calls = _tool_calls_to_ollama(tool_calls or [])
    if endpoint.operation == "generate":
        return text
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if calls:
        message["tool_calls"] = calls
    return message


def _embeddings(data: dict[str, Any]) -> list[Any]:
    vectors = []
    for item in _list(data.get("data"), "data"):
        vector = _obj(item, "an embedding item").get("embedding")
        if not isinstance(vector, list):
            raise _odd("an embedding is not a list")
        vectors.append(vector)
    return vectors


def to_ollama_response(endpoint: Endpoint, data: dict[str, Any], model: str, started: float) -> dict[str, Any]:
    """Translate a complete OpenAI answer into the Ollama answer for ``endpoint``.

    Raises ``UpstreamProtocolError`` when ``data`` is not in a shape this can read.
    """
    if endpoint.operation == "embedding":
        usage = _obj(data.get("usage"), "usage")
        return {
            "model": model,
            "embeddings": _embeddings(data),
            "prompt_eval_count": _count(usage.get("prompt_tokens"), "usage.prompt_tokens"),
        }
    choices = _list(data.get("choices"), "choices")
    if not choices or choices[0] is None:
        raise _odd("no choice: a whole answer without one holds no answer to translate")
    choice = _obj(choices[0], "a choice")
    if "message" in choice:
        message = _obj(choice["message"], "a choice's message")
        text = _text(message.get("content"), "a message's content")
        calls = _list(message.get("tool_calls"), "a message's tool_calls") or None
    else:
        text, calls = _text(choice.get("text"), "a choice's text"), None
    return {
        "model": model,
        "created_at": _now_iso(),
        _text_key(endpoint): _piece(endpoint, text, calls),
        "done": True,
        "done_reason": _text(choice.get("finish_reason"), "finish_reason") or "stop",
        **_usage_fields(data.get("usage"), started),
    }


class OllamaStreamTranslator:
    """Turns OpenAI stream chunks (parsed JSON) into Ollama NDJSON objects, one for one, plus the final one."""

    def __init__(self, endpoint: Endpoint, model: str, started: float) -> None:
        self._endpoint = endpoint
        self._model = model
        self._started = started
        self._finish_reason = "stop"
        self._usage: dict[str, Any] | None = None
        self._calls: dict[int, dict[str, Any]] = {}

    def _collect_calls(self, deltas: list[Any]) -> None:
        """OpenAI streams a tool call's arguments in fragments; Ollama sends whole calls, so they wait for done."""
        for delta in deltas:
            delta = _obj(delta, "a tool call delta")
            call = self._calls.setdefault(_index(delta.get("index")), {"function": {"name": "", "arguments": ""}})
            fn = _obj(delta.get("function"), "a tool call's function")
            call["function"]["name"] += _text(fn.get("name"), "a tool call's name")
            call["function"]["arguments"] += _text(fn.get("arguments"), "a tool call's arguments")

    def chunk(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """The Ollama line for one OpenAI chunk (None if it carries no text). ``UpstreamProtocolError`` if odd."""
        if data.get("usage"):
            self._usage = _obj(data["usage"], "usage")
        if "choices" in data and data["choices"] is None:
            raise _odd("choices is null")
        choices = _list(data.get("choices"), "choices")
        # Ollama has one answer: the first choice's (``0``, ``"0"``, ``0.0`` or no index alike); others are dropped
        first = [c for c in (_obj(c, "a choice") for c in choices) if channel_index(c.get("index")) == 0]
        if not first:
            return None
        choice = first[0]
        if choice.get("finish_reason"):
            self._finish_reason = _text(choice["finish_reason"], "finish_reason")
        delta = choice.get("delta")
        if delta is not None:
            delta = _obj(delta, "a delta")
            text = _text(delta.get("content"), "a delta's content")
            calls = _list(delta.get("tool_calls"), "a delta's tool_calls")
            if calls:
                self._collect_calls(calls)
        else:
            text = _text(choice.get("text"), "a choice's text")
        if not text:
            return None
        return {
            "model": self._model,
            "created_at": _now_iso(),
            _text_key(self._endpoint): _piece(self._endpoint, text),
            "done": False,
        }

    def done(self) -> dict[str, Any]:
        calls = [self._calls[i] for i in sorted(self._calls)]
        return {
            "model": self._model,
            "created_at": _now_iso(),
            _text_key(self._endpoint): _piece(self._endpoint, "", calls),
            "done": True,
            "done_reason": self._finish_reason,
            **_usage_fields(self._usage, self._started),
        }


def tags(models: list[str]) -> dict[str, Any]:
    """The ``/api/tags`` listing for the gateway's models."""
    now = _now_iso()
    return {
        "models": [
            {
                "name": name,
                "model": name,
                "modified_at": now,
                "size": 0,
                "digest": "",
                "details": {"format": "gguf", "family": "", "parameter_size": "", "quantization_level": ""},
            }
            for name in models
        ]
    }
