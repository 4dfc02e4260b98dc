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
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson

from clearance.mask.events import channel_index
from clearance.proxy.endpoints import (
    OPENAI_CHAT,
    OPENAI_COMPLETIONS,
    OPENAI_EMBEDDINGS,
    Endpoint,
)

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


def _tool_calls_to_ollama(calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for call in calls:
        fn = call.get("function") or {}
        raw_args = fn.get("arguments") or "{}"
        try:
            args = orjson.loads(raw_args) if isinstance(raw_args, str) else raw_args
        except orjson.JSONDecodeError:
            args = {"_raw": raw_args}
        out.append({"function": {"name": fn.get("name", ""), "arguments": args}})
    return out


def _usage_fields(usage: dict[str, Any] | None, started: float) -> dict[str, Any]:
    usage = usage or {}
    return {
        "total_duration": int((time.monotonic() - started) * 1e9),
        "prompt_eval_count": usage.get("prompt_tokens", 0),
        "eval_count": usage.get("completion_tokens", 0),
    }


def _text_key(endpoint: Endpoint) -> str:
    return "response" if endpoint.operation == "generate" else "message"


def _piece(endpoint: Endpoint, text: str, tool_calls: list[dict[str, Any]] | None = None) -> Any:
    if endpoint.operation == "generate":
        return text
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_calls:
        message["tool_calls"] = _tool_calls_to_ollama(tool_calls)
    return message


def to_ollama_response(endpoint: Endpoint, data: dict[str, Any], model: str, started: float) -> dict[str, Any]:
    """Translate a complete OpenAI answer into the Ollama answer for ``endpoint``."""
    if endpoint.operation == "embedding":
        return {
            "model": model,
            "embeddings": [item["embedding"] for item in data.get("data", [])],
            "prompt_eval_count": (data.get("usage") or {}).get("prompt_tokens", 0),
        }
    choice = (data.get("choices") or [{}])[0]
    if "message" in choice:
        text = choice["message"].get("content") or ""
        calls = choice["message"].get("tool_calls")
    else:
        text, calls = choice.get("text") or "", None
    return {
        "model": model,
        "created_at": _now_iso(),
        _text_key(endpoint): _piece(endpoint, text, calls),
        "done": True,
        "done_reason": choice.get("finish_reason") or "stop",
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

    def _collect_calls(self, deltas: list[dict[str, Any]]) -> None:
        """OpenAI streams a tool call's arguments in fragments; Ollama sends whole calls, so they wait for done."""
        for delta in deltas:
            call = self._calls.setdefault(int(delta.get("index", 0)), {"function": {"name": "", "arguments": ""}})
            fn = delta.get("function") or {}
            call["function"]["name"] += fn.get("name") or ""
            call["function"]["arguments"] += fn.get("arguments") or ""

    def chunk(self, data: dict[str, Any]) -> dict[str, Any] | None:
        if data.get("usage"):
            self._usage = data["usage"]
        choices = data.get("choices") or []
        # Ollama has one answer: the first choice's (``0``, ``"0"``, ``0.0`` or no index alike); others are dropped
        choice = next((c for c in choices if isinstance(c, dict) and channel_index(c.get("index")) == 0), None)
        if choice is None:
            return None
        if choice.get("finish_reason"):
            self._finish_reason = choice["finish_reason"]
        delta = choice.get("delta")
        if delta is not None:
            text = delta.get("content") or ""
            if delta.get("tool_calls"):
                self._collect_calls(delta["tool_calls"])
        else:
            text = choice.get("text") or ""
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
